# Turns a Markdown page (the subset the repository's READMEs use: headings, paragraphs, "-" lists,
# fenced code, pipe tables, `code`, **bold**, [links](url)) into a man page, so the file format's
# manual is scenarios/README.md itself. Variables: page, section, summary, version, date,
# see_also. The "# Title" line becomes NAME; a table becomes a list, each row's first cell the
# term and the other cells "Header: cell".
function esc(s) {
    gsub(/\\/, "\\e", s)
    gsub(/-/, "\\-", s)
    return s
}
# Inline markup: links keep their text, `code` and **bold** are bold.
function inline(s,    out, c, rest, i, j) {
    s = esc(s)
    while (match(s, /\[[^]]*\]\([^)]*\)/)) {
        c = substr(s, RSTART + 1, RLENGTH - 2)
        sub(/\]\(.*/, "", c)
        s = substr(s, 1, RSTART - 1) c substr(s, RSTART + RLENGTH)
    }
    out = ""
    while ((i = index(s, "`")) > 0) {
        rest = substr(s, i + 1)
        j = index(rest, "`")
        if (j == 0)
            break
        out = out substr(s, 1, i - 1) "\\fB" substr(rest, 1, j - 1) "\\fR"
        s = substr(rest, j + 1)
    }
    s = out s
    out = ""
    while ((i = index(s, "**")) > 0) {
        rest = substr(s, i + 2)
        j = index(rest, "**")
        if (j == 0)
            break
        out = out substr(s, 1, i - 1) "\\fB" substr(rest, 1, j - 1) "\\fR"
        s = substr(rest, j + 2)
    }
    s = out s
    if (s ~ /^[.']/)
        s = "\\&" s
    return s
}
function trim(s) {
    sub(/^[ \t]+/, "", s)
    sub(/[ \t]+$/, "", s)
    return s
}
function flush_para() {
    if (para != "") {
        print (in_list ? ".IP \\(bu 2" : ".PP")
        print inline(para)
    }
    para = ""
}
# The cells of a table row "| a | b |" into cell[1..n]; returns n. A "|" inside `code` stays.
function cells(line, cell,    n, i, c, code, cur) {
    line = trim(line)
    sub(/^\|/, "", line)
    sub(/\|$/, "", line)
    n = 0
    cur = ""
    code = 0
    for (i = 1; i <= length(line); i++) {
        c = substr(line, i, 1)
        if (c == "`")
            code = !code
        if (c == "|" && !code) {
            cell[++n] = trim(cur)
            cur = ""
        } else {
            cur = cur c
        }
    }
    cell[++n] = trim(cur)
    return n
}
BEGIN {
    print ".\\\" Generated from " source " by docs/man/md2man.awk: edit that file, not this one."
    print ".TH " toupper(page) " " section " \"" date "\" \"kmsload " version "\" \"kmsload manual\""
    print ".nh"
    print ".ad l"
    print ".SH NAME"
    print page " \\- " esc(summary)
    print ".SH DESCRIPTION"
}
in_code {
    if ($0 ~ /^```/) {
        print ".fi"
        print ".RE"
        in_code = 0
    } else {
        line = esc($0)
        if (line ~ /^[.']/)
            line = "\\&" line
        print line
    }
    next
}
/^```/ {
    flush_para()
    in_list = 0
    print ".PP"
    print ".RS 4"
    print ".nf"
    in_code = 1
    next
}
/^\|/ {
    flush_para()
    in_list = 0
    n = cells($0, c)
    if (!have_header) {
        for (i = 1; i <= n; i++)
            header[i] = c[i]
        nheader = n
        have_header = 1
        next
    }
    if ($0 ~ /^\|[-| :]*$/)
        next
    print ".TP"
    print inline(c[1])
    text = ""
    for (i = 2; i <= n; i++)
        text = text (text == "" ? "" : "; ") (i <= nheader && nheader > 2 ? header[i] ": " : "") c[i]
    print inline(text)
    next
}
{ have_header = 0 }
/^# / { next }
/^##+ / {
    flush_para()
    in_list = 0
    level = index($0, " ") - 1
    title = trim(substr($0, level + 1))
    if (level == 2)
        print ".SH \"" inline(toupper(title)) "\""
    else
        print ".SS \"" inline(title) "\""
    next
}
/^ *$/ {
    flush_para()
    in_list = 0
    next
}
/^- / {
    flush_para()
    in_list = 1
    para = substr($0, 3)
    next
}
{
    para = para == "" ? trim($0) : para " " trim($0)
}
END {
    flush_para()
    if (see_also != "") {
        print ".SH SEE ALSO"
        print see_also
    }
}
