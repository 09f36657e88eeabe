-- pandoc Lua filter for man/*.md -> roff (man/README.md says why):
--  * tables are narrowed to fit an 80-column terminal (pandoc sizes them
--    for 70 columns plus gutters, which overflow man's 71 under an indent);
--  * inline code and long words in a table cell may break after - / . _
--    (zero-width \:), so long file names and rule ranges fit narrow columns;
--  * links into the source tree become their text (an installed page has
--    no ../specs/ beside it).
local function roff_escape(s)
  local out = {}
  for _, c in utf8.codes(s) do
    local ch = utf8.char(c)
    if ch == "\\" then ch = "\\[rs]"
    elseif ch == "-" then ch = "\\-\\:"
    elseif ch == "/" or ch == "." or ch == "_" then ch = ch .. "\\:"
    elseif ch == "'" then ch = "\\[aq]"
    elseif ch == '"' then ch = "\\[dq]"
    elseif ch == "`" then ch = "\\[ga]"
    elseif ch == "~" then ch = "\\[ti]"
    elseif ch == "^" then ch = "\\[ha]"
    elseif c > 127 then ch = string.format("\\[u%04X]", c)
    end
    out[#out + 1] = ch
  end
  return table.concat(out)
end

local cell_filter = {
  Code = function(el)
    return pandoc.RawInline("man", "\\f[V]" .. roff_escape(el.text) .. "\\f[R]")
  end,
  Str = function(el)
    if #el.text > 10 and el.text:find("[-/._]") then
      return pandoc.RawInline("man", roff_escape(el.text))
    end
  end,
}

function Table(t)
  local n = #t.colspecs
  local s = (68 - 3 * (n - 1)) / 70
  for i, spec in ipairs(t.colspecs) do
    if type(spec[2]) == "number" then spec[2] = spec[2] * s end
    t.colspecs[i] = spec
  end
  t = pandoc.walk_block(t, cell_filter)
  -- groff 1.22.4's tbl warns spuriously about a text block that starts near
  -- the end of man's one long page (continuous rendering, cR=1); asking
  -- for room first lets the page grow (an.tmac trims it at the end).
  return { pandoc.RawBlock("man", ".if \\n[cR] .ne 1000v"), t }
end

function Link(el)
  if not el.target:match("^%a+:") then return el.content end
end
