/*
 * replication.pml: a SPIN model of aerodb-repl's replication protocol
 * (issue 12 §3). Write, ship-wal, transport, apply-wal, crash-restart,
 * promote, fencing and rejoin over NODES nodes, 2 epochs and MAXC write
 * sets, checked exhaustively by tests/model/spin_check.sh.
 * specs/model/README.md maps every step to the code (file, class, step,
 * rule id), every invariant to its rules, and lists what is abstracted.
 *
 * In short: a write set is named by its creator (epoch, node); the history
 * digest H(c) is the exact sequence of creators 1..c (a hash without
 * collisions); the claim archive is the one target; an inbox is whatever
 * the transport copied from it, so an apply-wal run may meet any segment
 * the archive holds, whole or cut short; every step below is one command
 * run, or one durable step of one, under the node's lock.
 *
 * Broken variants, one macro each (README.md "Broken variants"); each of
 * the first eight yields a counterexample, the last two are layers of
 * defence whose removal alone the other checks cover in these bounds:
 *   NO_EXCLUSIVE_CLAIM   promote publishes 00000002.history by a replacing rename (MODEL-6)
 *   NO_GAP_CHECK         apply-wal appends past a gap (LOG-7, row 10)
 *   NO_TRANSIT_CHECK     apply-wal takes a cut-short segment for whole (LOG-6, row 1)
 *   NO_SUPERSEDE         apply-wal applies write sets beyond b_{E+1} (LOG-20, row 6)
 *   NO_RECOV3            apply-wal's step 2 lets a replica past b_{E+1} go on (RECOV-3)
 *   NO_PROMOTING_REFUSAL apply-wal runs while a promote's intent is pending (RECOV-7)
 *   NO_REJOIN_CHECK      rejoin without its prefix check (RECOV-10 step 2)
 *   NO_FENCE             ship-wal does not fence on a later epoch (LOG-17, LOG-21, RECOV-5)
 *   NO_CONTINUITY        apply-wal without the digest checks of rows 7-9 (LOG-8..LOG-10)
 *   NO_SWITCH_CHECK      apply-wal's epoch switch without its branch check (LOG-20)
 */

#ifndef NODES
#define NODES 3          /* node 0: the `aerodb init` primary; 1..NODES-1: replicas */
#endif
#ifndef MAXC
#define MAXC 3           /* CommitIds 1..MAXC: every write set of a run */
#endif
#define MAXE 2           /* epochs 1 and 2: one promote can win */
#if NODES < 2 || NODES * MAXE > 7 || MAXC < 1 || MAXC > 5
#error "bounds: 2 <= NODES <= 3 (creators fit one base-8 digit), 1 <= MAXC <= 5 (H fits a short)"
#endif

#define SPE   (MAXC * (MAXC + 1) / 2)   /* segment names per epoch (F <= L) */
#define SLOTS (MAXE * SPE)              /* every EEEEEEEE-F-L.seg name */
/* the slot of the segment name (epoch e, first commit F, last commit L) */
#define SLOT(e, F, L) (((e) - 1) * SPE + ((F) - 1) * MAXC - ((F) - 1) * ((F) - 2) / 2 + (L) - (F))

#define REPLICA 0
#define PRIMARY 1
#define NOPOS   255      /* no replication/shipped/<key>.json for the claim archive yet */

/* A write set is named by its creator: WID(node, epoch), 1..NODES*MAXE (< 8). */
#define WID(n, e)   (((e) - 1) * NODES + (n) + 1)
#define WRITER(w)   (((w) - 1) % NODES)
#define WEPOCH(w)   (((w) - 1) / NODES + 1)
/* wal/wal.log of node n: the write set at CommitId c (1-based), 0 = none */
#define WAL(n, c)   wal[(n) * MAXC + (c) - 1]

/* ---- each node: state.json, halt.json, replication/, wal/wal.log ---- */
bit   role[NODES];           /* state.json role */
byte  epoch[NODES];          /* state.json epoch */
byte  applied[NODES];        /* state.json applied.commit */
bit   fenced[NODES];         /* state.json fenced (MODEL-7) */
bit   halted[NODES];         /* replication/halt.json (NODE-9) */
bit   promoting[NODES];      /* state.json promoting, the intent (MODEL-8 step 3) */
byte  branch_commit[NODES];  /* promoting.branch_commit; kept after the claim: the content of node k's */
short branch_digest[NODES];  /* promoting.branch_digest */
byte  hist[NODES];           /* replication/history/00000002.history: its claimant (node+1), 0 none */
byte  shipped[NODES];        /* replication/shipped/<claim archive>.json: commit */
byte  wal[NODES * MAXC];

/* ---- the claim archive (HFILE-5), the one target of ship-wal ---- */
byte  arch[SLOTS];           /* segment name -> publishing node + 1; never replaced (LOG-3) */
byte  claim;                 /* 00000002.history: claimant node + 1, 0 absent */
byte  claims_ever;           /* every claimant whose 00000002.history the archive held (bits) */

/* ---- ghosts, read by the invariants only ---- */
byte  ever_primary[MAXE + 1];  /* nodes that ever held role primary with that epoch (bits) */
byte  ever_fenced;             /* nodes that were ever fenced (bits) */
bit   ship_ok_after_claim;     /* a ship-wal of epoch 1 exited 0 although its last listing held epoch 2 */

/* ---- constants and scratch: not part of the state vector ---- */
hidden byte segE[SLOTS], segF[SLOTS], segL[SLOTS];
hidden byte tknow, tx, te, ti, tj, tk, tc, tn, tw, tA, tS, tF, tL, tL2, tb, tcount, stop;
hidden byte lineage_run;     /* Applier::lineage_: the epoch-2 claimant this apply-wal run knows, 0 none */
hidden short td1, td2;
hidden byte I1_one_writable_node_per_epoch, I2_replica_is_prefix_of_its_epoch,
            I3_no_superseded_write_set_past_branch, I4_no_gap_and_on_creators_history,
            I4_append_is_next_and_continues_digest,
            I5_fenced_is_durable, I6_ship_exit0_proves_no_later_epoch, model_wal_canonical;

/* H(c) of node n (HIST-2): the exact sequence of creators 1..c, base 8.
 * H(0) = 0: the seed of the one system id. */
inline Digest(n, c, out) {
  out = 0; tj = c;
  do
  :: tj > 0 -> out = out * 8 + WAL(n, tj); tj--
  :: else -> break
  od
}

#define POPCOUNT(x) (((x) & 1) + (((x) >> 1) & 1) + (((x) >> 2) & 1) + (((x) >> 3) & 1))
#define FIRSTBIT(x) (((x) & 1) -> 0 : (((x) & 2) -> 1 : (((x) & 4) -> 2 : 3)))

/* The invariants (README.md "Invariants"). CheckNode(x, know): those of
 * node x, `know` being the epoch-2 claimant it follows (its history copy,
 * or what the apply-wal run in progress read). CheckGlobal: those over
 * all nodes. The Monitor checks them in every state; an apply-wal step
 * also checks its own node while its run's lineage is known (the state
 * after it no longer shows what the run read) and before a halted node is
 * collapsed (CollapseHalted). */
inline CheckNode(x, know) {
  /* I4 (LOG-5, LOG-7, LOG-9, LOG-10): no gap at or below applied, and
   * every write set sits on the history its creator wrote it on. */
  tc = 1;
  do
  :: tc <= MAXC ->
     if
     :: tc <= applied[x] ->
        I4_no_gap_and_on_creators_history = (WAL(x, tc) != 0);
        assert(I4_no_gap_and_on_creators_history);
        tw = (WAL(x, tc) != 0 -> WRITER(WAL(x, tc)) : x);
        tk = 1;
        do
        :: tk <= tc ->
           I4_no_gap_and_on_creators_history = (WAL(x, tk) == WAL(tw, tk));
           assert(I4_no_gap_and_on_creators_history);
           tk++
        :: else -> break
        od
     :: else ->
        model_wal_canonical = (WAL(x, tc) == 0);
        assert(model_wal_canonical)
     fi;
     tc++
  :: else -> break
  od;
  /* I3 (LOG-20, RECOV-3, RECOV-10, MODEL-8): a node that follows epoch 2
   * holds no epoch-1 write set past b_2. Following: its epoch is 2, or,
   * not halted, it holds a copy of 00000002.history or its apply-wal run
   * read one. */
  if
  :: know != 0 && (epoch[x] >= 2 || !halted[x]) ->
     tc = branch_commit[know - 1] + 1;
     do
     :: tc <= applied[x] ->
        I3_no_superseded_write_set_past_branch = (WAL(x, tc) == 0 || WEPOCH(WAL(x, tc)) >= 2);
        assert(I3_no_superseded_write_set_past_branch);
        tc++
     :: else -> break
     od
  :: else
  fi;
  /* I2 (MODEL-4, LOG-5..LOG-10): a replica that is not halted holds what
   * the primary of its epoch wrote, commit by commit. */
  if
  :: role[x] == REPLICA && !halted[x] && ever_primary[epoch[x]] != 0 ->
     tn = FIRSTBIT(ever_primary[epoch[x]]);
     tc = 1;
     do
     :: tc <= applied[x] ->
        I2_replica_is_prefix_of_its_epoch = (WAL(x, tc) == WAL(tn, tc));
        assert(I2_replica_is_prefix_of_its_epoch);
        tc++
     :: else -> break
     od
  :: else
  fi;
  /* I5 (MODEL-7): fenced is removed only by rejoin, which leaves a replica. */
  I5_fenced_is_durable = (!(ever_fenced & (1 << x)) || fenced[x] || role[x] == REPLICA);
  assert(I5_fenced_is_durable)
}

inline CheckGlobal() {
  /* I1 (MODEL-2, MODEL-6, MODEL-8): at most one writable node per epoch,
   * and at most one node ever primary of an epoch. */
  te = 1;
  do
  :: te <= MAXE ->
     tcount = 0; ti = 0;
     do
     :: ti < NODES ->
        if
        :: role[ti] == PRIMARY && epoch[ti] == te && !fenced[ti] && !halted[ti] && !promoting[ti] -> tcount++
        :: else
        fi;
        ti++
     :: else -> break
     od;
     I1_one_writable_node_per_epoch = (tcount <= 1 && POPCOUNT(ever_primary[te]) <= 1);
     assert(I1_one_writable_node_per_epoch);
     te++
  :: else -> break
  od;
  /* I6 (RECOV-5, LOG-21): ship-wal's exit 0 proves that no later epoch was
   * claimed when it last listed the claim archive. */
  I6_ship_exit0_proves_no_later_epoch = !ship_ok_after_claim;
  assert(I6_ship_exit0_proves_no_later_epoch)
}

/* Checks every reachable state: in each state this step is enabled. */
proctype Monitor() {
end_idle:
  do
  :: d_step {
       CheckGlobal();
       tx = 0;
       do
       :: tx < NODES -> tknow = hist[tx]; CheckNode(tx, tknow); tx++
       :: else -> break
       od
     }
  od
}

/* ============ aerodb put (lib/engine/reference_node.cc over lib/node/store.cc) ============ */
/* MODEL-2: Permit(write); the write set is fsynced and state.json replaced
 * before the write is acknowledged (NODE-1), so a crash inside it leaves
 * nothing (NODE-4 truncates the torn tail): one step. */
inline Store_Write(n) {
  d_step {
    role[n] == PRIMARY && !halted[n] && !fenced[n] && !promoting[n] && applied[n] < MAXC ->
    applied[n]++;
    WAL(n, applied[n]) = WID(n, epoch[n]);
    printf("node%d aerodb put: commit %d of epoch %d\n", n, applied[n], epoch[n])
  }
}

/* ====================== ship-wal (lib/repl/ship.cc, Shipper) ====================== */
/* Fence (MODEL-7, LOG-25): `fenced` into state.json, then the refusal. */
inline Shipper_Fence(n) {
#ifndef NO_FENCE
  fenced[n] = 1; ever_fenced = ever_fenced | (1 << n); stop = 1;
  shipped[n] = NOPOS   /* dead from now on: a fenced node never ships again (reduction) */
#else
  skip
#endif
}

/* Run() up to the cut: OpenNode + Permit(ship) (step 1), CheckTarget
 * (LOG-17), CheckTargetHistory (LOG-21), PublishHistory, LoadPosition
 * (LOG-2, LOG-21). Sets cf..top, or stop. */
inline Shipper_Open(n) {
  stop = 0;
  tk = 0;
  do   /* CheckTarget: a valid segment of a higher epoch fences */
  :: tk < SLOTS -> if :: arch[tk] != 0 && segE[tk] > epoch[n] -> Shipper_Fence(n) :: else fi; tk++
  :: else -> break
  od;
  if
  :: !stop ->
     /* CheckTargetHistory: a later epoch continuing the node's (every
      * lineage starts {1,0}) fences; another claim of its own epoch is 4. */
     if
     :: claim != 0 && epoch[n] < 2 -> Shipper_Fence(n)
     :: claim != 0 && epoch[n] == 2 && claim != hist[n] -> stop = 1
     :: claim == 0 && epoch[n] == 2 ->                               /* PublishHistory */
        claim = hist[n]; claims_ever = claims_ever | (1 << (hist[n] - 1))
     :: else
     fi
  :: else
  fi;
  if
  :: !stop ->
     /* LoadPosition: a new target starts at base (0), or at b_E on a
      * primary of epoch E >= 2 (it ships only what it created). */
     tb = (shipped[n] != NOPOS -> shipped[n] : (epoch[n] == 2 -> branch_commit[hist[n] - 1] : 0));
     if
     :: tb == applied[n] -> stop = 1                                 /* nothing to ship: 0 */
     :: else -> cf = tb + 1; top = applied[n]
     fi
  :: else
  fi;
  if
  :: fenced[n] -> printf("node%d ship-wal: fenced (5)\n", n)
  :: !fenced[n] && stop -> printf("node%d ship-wal: nothing shipped\n", n)
  :: else -> printf("node%d ship-wal: open, commits %d..%d to ship\n", n, cf, top)
  fi
}

/* PublishWritten / JudgeExisting (LOG-3, LOG-4) of segment cf..cl: no
 * name is replaced; one that exists is the same history (identical: 0) or
 * another one (4). */
inline Shipper_Publish(n) {
  stop = 0;
  tk = SLOT(epoch[n], cf, cl);
  if
  :: arch[tk] == 0 -> arch[tk] = n + 1
  :: else ->
     tw = arch[tk] - 1;
     Digest(tw, cf - 1, td1); Digest(n, cf - 1, td2);
     if
     :: td1 != td2 -> stop = 1
     :: else ->
        Digest(tw, cl, td1); Digest(n, cl, td2);
        if :: td1 != td2 -> stop = 1 :: else fi
     fi
  fi
}

/* The end of Run(): CheckTargetHistory again (LOG-21), so a promotion
 * that landed during the run fences it now. */
inline Shipper_Finish(n) {
  stop = 0;
  if
  :: claim != 0 && epoch[n] < 2 -> Shipper_Fence(n)
  :: claim != 0 && epoch[n] == 2 && claim != hist[n] -> stop = 1
  :: else
  fi;
  if
  :: !stop && claim != 0 && epoch[n] < 2 -> ship_ok_after_claim = 1
  :: else
  fi
}

/* Steps 4-5, CutAndPublish: the segment cf..cl (LOG-1: through what the
 * open saw, or closed earlier by --max-segment-bytes, the rest left to
 * the next run), then the position (SavePosition, LOG-3) and the re-read;
 * or a crash before the position is saved. One atomic step: the choices,
 * then the publish. */
inline Shipper_Run(n) {
  d_step {
    /* Permit(ship); runs that find nothing to ship and nothing to fence
     * change nothing and are left out */
    role[n] == PRIMARY && !halted[n] && !fenced[n] && !promoting[n] &&
    (shipped[n] != applied[n] || (claim != 0 && (epoch[n] < 2 || claim != hist[n]))) ->
    Shipper_Open(n);
    if :: stop -> cf = 0; top = 0 :: else fi
  };
  if
  :: cf == 0 -> skip                      /* refused, fenced, or nothing new */
  :: else ->
     atomic {
       if
       :: cl = top
       :: cf < top -> cl = cf
       :: cf + 1 < top -> cl = cf + 1
       fi;
       if
       :: saved = 1                       /* published, position saved, re-read */
       :: saved = 0                       /* published, then a crash */
       fi;
       d_step {
         Shipper_Publish(n);
         if
         :: stop -> printf("node%d ship-wal: %d-%d-%d.seg exists with another history (4)\n", n, epoch[n], cf, cl)
         :: !stop && saved -> printf("node%d ship-wal: published %d-%d-%d.seg\n", n, epoch[n], cf, cl);
            shipped[n] = cl; Shipper_Finish(n);
            if
            :: fenced[n] -> printf("node%d ship-wal: position %d saved, then fenced by the re-read (5)\n", n, cl)
            :: else -> printf("node%d ship-wal: position %d saved\n", n, cl)
            fi
         :: else -> printf("node%d ship-wal: published %d-%d-%d.seg, crash before the position is saved\n", n, epoch[n], cf, cl)
         fi;
         cf = 0; cl = 0; top = 0; saved = 0; stop = 0
       }
     }
  fi
}

/* ====================== apply-wal (lib/repl/apply.cc, Applier) ====================== */
/* Halt (Node::Halt): acknowledge, then halt.json; the run stops. */
inline Applier_Halt(n) {
  halted[n] = 1; stop = 1
}

/* After a step's invariants were checked: a halted node that never was a
 * primary is frozen (nothing in the model unhalts it) and no other node
 * or check reads its files any more (it created no write set, published
 * nothing, and apply-wal refuses it, LOG-14), so it is stored as one
 * canonical halted node. A state-space reduction only (README.md). */
inline CollapseHalted(n) {
  if
  :: halted[n] && n != 0 && !(ever_primary[1] & (1 << n)) && !(ever_primary[2] & (1 << n)) &&
     !promoting[n] && !(claims_ever & (1 << n)) ->
     tc = 1;
     do :: tc <= MAXC -> WAL(n, tc) = 0; tc++ :: else -> break od;
     applied[n] = 0; epoch[n] = 1; hist[n] = 0; branch_commit[n] = 0; branch_digest[n] = 0
  :: else
  fi
}

/* Step 2, LoadLineage (LOG-15, LOG-20, RECOV-3). `seen`: the claimant of
 * the 00000002.history the run found whole in the inbox, 0 none. */
inline Applier_LoadLineage(n, seen) {
  if
  :: seen != 0 && hist[n] != 0 && seen != hist[n] -> Applier_Halt(n)   /* two files of one epoch: 4 */
  :: else ->
     lineage_run = (hist[n] != 0 -> hist[n] : seen);
     if
     :: lineage_run != 0 && epoch[n] < 2 ->
        tb = branch_commit[lineage_run - 1];
        Digest(n, applied[n], td1);
#ifndef NO_RECOV3
        if
        :: applied[n] > tb || (applied[n] == tb && branch_digest[lineage_run - 1] != td1) ->
           Applier_Halt(n)                                           /* RECOV-3: 4 */
        :: else
        fi
#endif
     :: else
     fi
  fi
}

/* SwitchTo (LOG-20): before the first write set of epoch S > R, at A = b_S
 * with H(A) = branch_digest: the history copy, then state.json epoch S. */
inline Applier_SwitchTo(n) {
  Digest(n, tA, td1);
#ifndef NO_SWITCH_CHECK
  if
  :: branch_commit[lineage_run - 1] != tA || branch_digest[lineage_run - 1] != td1 -> Applier_Halt(n)
  :: else
  fi;
#endif
  if
  :: !stop -> hist[n] = lineage_run; epoch[n] = tS
  :: else
  fi
}

/* Append (rows 8, 9; LOG-9, LOG-13): write sets A+1..L' appended and
 * acknowledged (wal.log fsynced, then state.json). I4' (LOG-7, LOG-10):
 * the first write set appended is A+1, and the replica's H(A) is the
 * H(A) its creator had: the digest_before it continues. */
inline Applier_Append(n, cut) {
  tc = (tF > tA + 1 -> tF : tA + 1);
  Digest(n, tA, td1); Digest(tw, tA, td2);
  I4_append_is_next_and_continues_digest = (tc == tA + 1 && td1 == td2);
  assert(I4_append_is_next_and_continues_digest);
  do
  :: tc <= tL2 ->
#ifdef NO_TRANSIT_CHECK
     if
     :: cut == 1 && tc == tL -> skip      /* a file cut short lacks its last write set */
     :: else -> WAL(n, tc) = WAL(tw, tc)
     fi;
#else
     WAL(n, tc) = WAL(tw, tc);
#endif
     tc++
  :: else -> break
  od;
  applied[n] = tL2
}

/* Judge: the classification (rows 1-10) of the segment of slot k, found
 * whole (cut 0), in transit (cut 1), or whole with a power loss while its
 * write sets are appended (cut 2: the epoch switch before it is durable,
 * the append is not, LOG-13). */
inline Applier_Judge(n, k, cut) {
  tS = segE[k]; tF = segF[k]; tL = segL[k]; tw = arch[k] - 1; tA = applied[n];
  if
#ifndef NO_TRANSIT_CHECK
  :: cut == 1 -> stop = 1                                            /* row 1, LOG-6: 8 */
#endif
  :: tS > (lineage_run != 0 -> 2 : 1) -> stop = 1                    /* row 4: 8 */
  :: else ->
     tb = (tS >= 2 -> branch_commit[lineage_run - 1] : 0);
     if
     :: tS >= 2 && tF <= tb -> Applier_Halt(n)                       /* row 5, LOG-15: 4 */
     :: else ->
        tL2 = tL;
#ifndef NO_SUPERSEDE
        if                                                           /* row 6, LOG-20 */
        :: tS == 1 && lineage_run != 0 && branch_commit[lineage_run - 1] < tL ->
           tL2 = branch_commit[lineage_run - 1]
        :: else
        fi;
#endif
        if
        :: tF > tL2 -> skip                                          /* superseded */
        :: tF <= tL2 && tL2 <= tA ->                                 /* row 7, LOG-8: duplicate */
#ifndef NO_CONTINUITY
           if
           :: tL2 < tL -> skip                                       /* not-checked */
           :: else ->
              Digest(n, tL2, td1); Digest(tw, tL2, td2);
              if :: td1 != td2 -> Applier_Halt(n) :: else fi
           fi
#else
           skip
#endif
#ifndef NO_GAP_CHECK
        :: tF <= tL2 && tL2 > tA && tF > tA + 1 -> stop = 1          /* row 10, LOG-7: 3 */
        :: tF <= tL2 && tL2 > tA && tF <= tA + 1 ->
#else
        :: tF <= tL2 && tL2 > tA ->
#endif
           Digest(n, tA, td1); Digest(tw, tA, td2);
#ifndef NO_CONTINUITY
           if                                                        /* row 9, LOG-10 */
           :: tF == tA + 1 && td1 != td2 -> Applier_Halt(n)
           :: else
           fi;
#endif
           if
           :: !stop && tS > epoch[n] -> Applier_SwitchTo(n)
           :: else
           fi;
#ifndef NO_CONTINUITY
           if                                                        /* row 8, LOG-9 */
           :: !stop && tF <= tA && td1 != td2 -> Applier_Halt(n)
           :: else
           fi;
#endif
           if
           :: !stop && cut != 2 -> Applier_Append(n, cut)
           :: else
           fi
        fi
     fi
  fi
}

/* One apply-wal run that takes one segment (README.md "Steps"):
 * Permit(apply) (step 1), LoadLineage (step 2), Judge (step 5) and the
 * acknowledgment (LOG-13), as one step. A run over several segments is a
 * sequence of these; a crash between two segments is a run that ended.
 * The choices come first, inside one atomic sequence (no state is stored
 * between them): the segment (any name the archive holds: what the
 * transport put in the inbox), the inbox's 00000002.history (none, or
 * one the archive held), and how the segment is found: whole (cut 0), in
 * transit (cut 1), or whole with a power loss inside its append (cut 2).
 * A segment in transit stops the run before anything changes (row 1), so
 * cut 1 is offered only where NO_TRANSIT_CHECK makes it change something;
 * a power loss inside an append leaves a change only after an epoch
 * switch, so cut 2 is offered for segments of a later epoch only. */
#ifndef NO_PROMOTING_REFUSAL
#define PERMIT_APPLY(n) (role[n] == REPLICA && !halted[n] && !promoting[n])
#else
#define PERMIT_APPLY(n) (role[n] == REPLICA && !halted[n])
#endif

inline Applier_Run(n) {
  atomic {
    PERMIT_APPLY(n) ->
    select(k : 0 .. SLOTS - 1);
    if
    :: seen = 0
    :: claim != 0 -> seen = claim
#ifdef NO_EXCLUSIVE_CLAIM
    :: claims_ever & 1 -> seen = 1
    :: claims_ever & 2 -> seen = 2
    :: claims_ever & 4 -> seen = 3
#endif
    fi;
    if
    :: cut = 0
    :: segE[k] > epoch[n] -> cut = 2
#ifdef NO_TRANSIT_CHECK
    :: cut = 1
#endif
    fi;
    d_step {
      if
      :: arch[k] != 0 ->
         stop = 0; lineage_run = 0;
         Applier_LoadLineage(n, seen);
         if :: !stop -> Applier_Judge(n, k, cut) :: else fi;
         tknow = (hist[n] != 0 -> hist[n] : lineage_run); CheckNode(n, tknow);
         if
         :: seen == 0 -> printf("node%d apply-wal: no 00000002.history in the inbox\n", n)
         :: else -> printf("node%d apply-wal: 00000002.history of node%d in the inbox\n", n, seen - 1)
         fi;
         if
         :: cut == 0 -> printf("node%d apply-wal: takes %d-%d-%d.seg\n", n, segE[k], segF[k], segL[k])
         :: cut == 1 -> printf("node%d apply-wal: takes %d-%d-%d.seg, in transit\n", n, segE[k], segF[k], segL[k])
         :: cut == 2 -> printf("node%d apply-wal: takes %d-%d-%d.seg, power loss in its append\n", n, segE[k], segF[k], segL[k])
         fi;
         printf("node%d apply-wal: applied %d, epoch %d, halted %d\n", n, applied[n], epoch[n], halted[n]);
         CollapseHalted(n);
         stop = 0; lineage_run = 0
      :: else                                    /* no such file: nothing */
      fi;
      k = 0; seen = 0; cut = 0
    }
  }
}

/* ====================== promote (lib/repl/promote.cc, Promoter) ====================== */
/* Every step ends in a durable state, and a re-run from it (RECOV-7) takes
 * the next one, so a crash between steps is a run that stopped there. */
inline Promoter_Run(n) {
  if
  :: d_step {
       /* OpenNode + Permit(promote) (step 1), CheckArchive (step 2),
        * WriteIntent (step 3). `behind` refuses (5) unless
        * --discard-after-applied: both are runs, the refusal is a no-op. */
       role[n] == REPLICA && !halted[n] && !fenced[n] && !promoting[n] && epoch[n] < MAXE && claim == 0 ->
       promoting[n] = 1; branch_commit[n] = applied[n];
       Digest(n, applied[n], td1); branch_digest[n] = td1;
       printf("node%d promote: intent, branch commit %d\n", n, applied[n])
     }
  :: d_step {
       /* A run in S8: CheckArchive, then Claim (step 4, MODEL-6): the
        * exclusive publish of 00000002.history; a rival's file drops the
        * intent (5 claimed). */
       role[n] == REPLICA && !halted[n] && promoting[n] && claim != n + 1 ->
       if
       :: claim == 0 -> claim = n + 1; claims_ever = claims_ever | (1 << n);
          printf("node%d promote: claimed 00000002.history\n", n)
#ifdef NO_EXCLUSIVE_CLAIM
       :: else ->                                                       /* replaces the rival's */
          printf("node%d promote: claimed 00000002.history, replacing node%d's\n", n, claim - 1);
          claim = n + 1; claims_ever = claims_ever | (1 << n)
#else
       :: else -> promoting[n] = 0; branch_commit[n] = 0; branch_digest[n] = 0;   /* DropIntent */
          printf("node%d promote: claimed by node%d (5)\n", n, claim - 1)
#endif
       fi
     }
  :: d_step {
       /* A run in S8 whose claim stands (its own claimant): Commit (step 5,
        * FinishPromote): the history copy, then role primary, epoch 2. */
       role[n] == REPLICA && !halted[n] && promoting[n] && claim == n + 1 ->
       hist[n] = n + 1; role[n] = PRIMARY; epoch[n] = 2; promoting[n] = 0; shipped[n] = NOPOS;
       ever_primary[2] = ever_primary[2] | (1 << n);
       printf("node%d promote: primary of epoch 2 from commit %d\n", n, branch_commit[n])
     }
#ifdef NO_EXCLUSIVE_CLAIM
  :: d_step {
       /* A run that finds epoch 2 claimed by another (step 2): 5 claimed,
        * an intent of an earlier run dropped. (With the exclusive claim
        * the Claim step above ends the same way.) */
       role[n] == REPLICA && !halted[n] && promoting[n] && claim != 0 && claim != n + 1 ->
       promoting[n] = 0;
       if :: !(claims_ever & (1 << n)) -> branch_commit[n] = 0; branch_digest[n] = 0 :: else fi;
       printf("node%d promote (re-run): claimed by node%d (5)\n", n, claim - 1)
     }
#endif
  fi
}

/* ====================== rejoin (lib/repl/rejoin.cc, Rejoiner) ====================== */
/* One step: a crash before BecomeReplica's state.json replace leaves extra
 * history copies only (RECOV-2 accepts them), that is nothing. */
inline Rejoiner_Run(n) {
  d_step {
    /* OpenNode + Permit(rejoin): halted 6, replica 5, fenced allowed;
     * ReadLineage: a later epoch (else 5 notsuperseded). */
    role[n] == PRIMARY && !halted[n] && claim != 0 && epoch[n] < 2 ->
    stop = 0;
    tb = branch_commit[claim - 1];
#ifndef NO_REJOIN_CHECK
    /* CheckPrefix (RECOV-10 step 2) */
    if
    :: applied[n] > tb -> stop = 1                       /* 4 diverged */
    :: else ->
       /* LineageDigestAt(applied): the branch digest, the seed, or a
        * segment boundary of the lineage in the archive. */
       tc = applied[n]; tw = 0;
       if
       :: tc == tb -> td1 = branch_digest[claim - 1]; tw = 1
       :: tc == 0 -> td1 = 0; tw = 1
       :: else ->
          tk = 0;
          do
          :: tk < SLOTS && tw == 0 ->
             if
             :: arch[tk] != 0 && (segF[tk] - 1 == tc || segL[tk] == tc) ->
                Digest(arch[tk] - 1, tc, td1); tw = 1
             :: else
             fi;
             tk++
          :: else -> break
          od
       fi;
       Digest(n, tc, td2);
       if
       :: tw == 0 -> stop = 1                             /* 9 unprovable */
       :: tw != 0 && td1 != td2 -> stop = 1               /* 4 diverged */
       :: else
       fi
    fi;
#endif
    if
    :: !stop -> hist[n] = claim; role[n] = REPLICA; fenced[n] = 0;  /* Commit: BecomeReplica */
       shipped[n] = NOPOS;   /* dead from now on: a replica never ships (reduction) */
       printf("node%d rejoin: a replica of the lineage at commit %d\n", n, applied[n])
    :: else -> printf("node%d rejoin: refused\n", n)
    fi;
    stop = 0
  }
}

/* ====================== a node: its commands, one at a time (its lock) ====================== */
proctype Node(byte n) {
  byte cf, cl, top;   /* ship-wal between its open and its publish */
  bit saved;
  byte k, seen, cut;  /* apply-wal's choices, inside one atomic step */
end_idle:
  do
  :: Store_Write(n)
  :: Shipper_Run(n)
  :: Applier_Run(n)
  :: Promoter_Run(n)
  :: Rejoiner_Run(n)
  od
}

init {
  d_step {
    /* the segment names: epoch, first and last commit of each slot */
    tS = 1;
    do
    :: tS <= MAXE ->
       tF = 1;
       do
       :: tF <= MAXC ->
          tL = tF;
          do
          :: tL <= MAXC -> tk = SLOT(tS, tF, tL); segE[tk] = tS; segF[tk] = tF; segL[tk] = tL; tL++
          :: else -> break
          od;
          tF++
       :: else -> break
       od;
       tS++
    :: else -> break
    od;
    /* aerodb init: node 0 the primary of epoch 1 at commit 0; the others
     * replicas of epoch 1 at commit 0 (snapshot install of its base). */
    ti = 0;
    do
    :: ti < NODES -> epoch[ti] = 1; shipped[ti] = NOPOS; ti++
    :: else -> break
    od;
    role[0] = PRIMARY;
    ever_primary[1] = 1
  };
  atomic {
    run Node(0); run Node(1);
#if NODES > 2
    run Node(2);
#endif
    run Monitor()
  }
}
