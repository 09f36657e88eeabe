# bash completion for aerodb-repl and aerodb, installed under both names in
# share/bash-completion/completions/ (cmake/Packaging.cmake).
#
# Everything comes from the command's own `--help`, read at completion time,
# so a new subcommand or option needs no edit here:
#   subcommands     the "Subcommands:" section, at every level (snapshot export)
#   options         the "Options:" section, short and long names
#   an option value its type in that section: directories for DIR and for
#                   the options in _aerodb_repl_dir_opts; files for FILE and
#                   PATH and the options in _aerodb_repl_file_opts; the
#                   choices of `TEXT:{a,b}`; nothing for numbers and text
#   positionals     files and directories ("Positionals:": verify PATH,
#                   snapshot install ARCHIVE)
# Global options are skipped with their values, and offered at every level.

_aerodb_repl_dir_opts=' -D --data-dir --to --from --archive --report-to '
_aerodb_repl_file_opts=' -o --output --metrics '

# _aerodb_repl_describe CMD [SUBCOMMAND...]: parses `CMD SUBCOMMAND... --help`
# into the caller's arrays: _subs (subcommands), _opts (option names),
# _types (associative: option name -> value type, for options with a value),
# and _npos (how many positionals).
_aerodb_repl_describe() {
  local help line section="" left names type
  local -a n
  help=$("$@" --help 2>/dev/null) || return 1
  _subs=() _opts=() _types=() _npos=0
  while IFS= read -r line; do
    case $line in
      Options:) section=o; continue ;;
      Positionals:) section=p; continue ;;
      Subcommands:) section=s; continue ;;
      [![:space:]]*) section=""; continue ;;
    esac
    line=${line#  }
    left=${line%%  *}          # names and type; the description follows 2+ spaces
    case $section in
      o)
        [[ $left == -* ]] || continue
        names=${left%% *}
        type=""
        [[ $left == *' '* ]] && type=${left#* } && type=${type%% *}
        IFS=, read -ra n <<<"$names"
        _opts+=("${n[@]}")
        # "Excludes:" (--progress) and "REQUIRED" are notes, not value types.
        if [[ $type == [A-Z{]* && $type != REQUIRED && $type != *: ]]; then
          for names in "${n[@]}"; do _types[$names]=$type; done
        fi
        ;;
      p) [[ $left == [a-zA-Z]* ]] && _npos=$((_npos + 1)) ;;
      s) [[ $left == [a-z]* ]] && _subs+=("${left%% *}") ;;
    esac
  done <<<"$help"
}

_aerodb_repl() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  local -a path=("${COMP_WORDS[0]}") _subs _opts
  local -A _types
  local _npos i w s found
  COMPREPLY=()
  _aerodb_repl_describe "${path[@]}" || return 0
  # The global options (--log-level, --progress, --s3-*, ...) are accepted
  # before or after any subcommand (aerodb-repl(1)), but only the top
  # level's --help lists them: kept here and offered at every level.
  local -a _gopts=()
  local -A _gtypes=()
  local k
  for k in "${_opts[@]}"; do [[ $k == --version || $k == -h || $k == --help ]] || _gopts+=("$k"); done
  for k in "${!_types[@]}"; do _gtypes[$k]=${_types[$k]}; done
  # Walk the words before the cursor: subcommands descend, options are
  # skipped with their values.
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    if [[ $w == -* ]]; then
      [[ $w != *=* && -n ${_types[$w]:-} ]] && ((i++))
      continue
    fi
    found=""
    for s in "${_subs[@]}"; do [[ $s == "$w" ]] && found=1; done
    if [[ -n $found ]]; then
      path+=("$w")
      _aerodb_repl_describe "${path[@]}" || return 0
      _opts+=("${_gopts[@]}")
      for k in "${!_gtypes[@]}"; do _types[$k]=${_gtypes[$k]}; done
    fi
  done

  local type=${_types[$prev]:-}
  if [[ $prev == -* && -n $type ]]; then
    local IFS=$'\n'
    if [[ $type == DIR || $_aerodb_repl_dir_opts == *" $prev "* ]]; then
      COMPREPLY=($(compgen -d -- "$cur"))
    elif [[ $type == FILE || $type == PATH || $_aerodb_repl_file_opts == *" $prev "* ]]; then
      COMPREPLY=($(compgen -f -- "$cur"))
    elif [[ $type == *'{'*'}'* ]]; then
      local choices=${type#*\{}
      choices=${choices%%\}*}
      COMPREPLY=($(compgen -W "${choices//,/$'\n'}" -- "$cur"))
    fi
    return 0
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "${_opts[*]}" -- "$cur"))
  elif ((${#_subs[@]})); then
    COMPREPLY=($(compgen -W "${_subs[*]}" -- "$cur"))
  elif ((_npos)); then
    local IFS=$'\n'
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
  return 0
}

complete -o filenames -F _aerodb_repl aerodb-repl aerodb
