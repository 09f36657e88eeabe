-- pandoc Lua filter for man/*.md -> roff (man/README.md says why):
--  * tables are narrowed to fit an 80-column terminal (pandoc sizes them
--    for 70 columns plus gutters, which overflow man's 71 under an indent);
--  * inline code and long words in a table cell may break after - / . _
--    (zero-width \:), so long file names and rule ranges fit narrow columns;
--  * links into the source tree become their text (an installed page has
--    no ../specs/ beside it);
--  * SYNOPSIS lines longer than a terminal's code block are wrapped between
--    option groups, continuations indented (the Markdown keeps one line, the
--    form tests/cli/man_synopsis.sh compares with --help).
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

-- Splits a synopsis line at the spaces outside [...] and fills lines of at
-- most `width` characters, continuations indented by four spaces.
local function wrap_synopsis(line, width)
  if #line <= width then return line end
  local units, depth, cur = {}, 0, ""
  for ch in line:gmatch(".") do
    if ch == "[" then depth = depth + 1 elseif ch == "]" then depth = depth - 1 end
    if ch == " " and depth == 0 then
      if cur ~= "" then units[#units + 1] = cur end
      cur = ""
    else
      cur = cur .. ch
    end
  end
  if cur ~= "" then units[#units + 1] = cur end
  local out, row = {}, ""
  for _, u in ipairs(units) do
    if row ~= "" and #row + 1 + #u > width then
      out[#out + 1] = row
      row = "    " .. u
    else
      row = (row == "") and u or (row .. " " .. u)
    end
  end
  out[#out + 1] = row
  return table.concat(out, "\n")
end

function Pandoc(doc)
  local in_synopsis = false
  for i, block in ipairs(doc.blocks) do
    if block.t == "Header" then
      in_synopsis = pandoc.utils.stringify(block) == "SYNOPSIS"
    elseif in_synopsis and block.t == "CodeBlock" then
      local lines = {}
      for line in (block.text .. "\n"):gmatch("(.-)\n") do
        lines[#lines + 1] = wrap_synopsis(line, 64)
      end
      block.text = table.concat(lines, "\n")
      doc.blocks[i] = block
    end
  end
  return doc
end
