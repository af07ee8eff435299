# Turns one `kmsload [COMMAND] --help` text into a man page (roff, man macros), so the pages say
# exactly what --help says. Variables: page (kmsload-run), section (1), summary (the NAME line),
# version, date, extra (a roff file printed before SEE ALSO), see_also (roff lines for SEE ALSO).
#
# The help text's shape: "Usage:" lines, paragraphs at column 0, headings at column 0 ending in
# ":", items indented 2 (or options indented up to 6 and starting with "-") whose term and text
# are separated by two spaces, and continuation lines indented deeper.
function esc(s) {
    gsub(/\\/, "\\e", s)
    gsub(/-/, "\\-", s)
    if (s ~ /^[.']/)
        s = "\\&" s
    return s
}
function trim(s) {
    sub(/^[ \t]+/, "", s)
    sub(/[ \t]+$/, "", s)
    return s
}
function indent_of(s) {
    match(s, /^ */)
    return RLENGTH
}
# A term and its text separated by one space only ("--metrics [ADDR:]PORT serve ..."): the term
# is the flag (both spellings, "-t, --target") and an argument written in capitals.
function split_single(line,    n, tok, i) {
    n = split(line, tok, " ")
    i = 1
    term = tok[1]
    if (term ~ /,$/ && n > 1)
        term = term " " tok[++i]
    if (term ~ /^-/ && i < n && tok[i + 1] ~ /^[][A-Z0-9_:|.=\/+-]+$/ && tok[i + 1] ~ /[A-Z]/)
        term = term " " tok[++i]
    text = ""
    for (i++; i <= n; i++)
        text = text == "" ? tok[i] : text " " tok[i]
}
function flush_item() {
    if (term != "") {
        print ".TP"
        print "\\fB" esc(term) "\\fR"
        if (text != "")
            print esc(text)
    }
    term = ""
    text = ""
}
function flush_para() {
    if (para != "") {
        print ".PP"
        print esc(para)
    }
    para = ""
}
function flush() {
    flush_item()
    flush_para()
}
function section_for(heading,    h) {
    h = heading
    sub(/:$/, "", h)
    if (h ~ /^Exit status/)
        return "EXIT STATUS"
    if (h ~ /^Environment/)
        return "ENVIRONMENT"
    if (h ~ /^(Options|Commands)$/)
        return toupper(h)
    return ""
}
function open_section(name) {
    flush()
    if (name != current) {
        print ".SH " name
        current = name
    }
}
BEGIN {
    print ".\\\" Generated from `" (page == "kmsload" ? "kmsload" : "kmsload " substr(page, 9)) \
        " --help` by docs/man/help2man.awk: edit the help text, not this file."
    print ".TH " toupper(page) " " section " \"" date "\" \"kmsload " version "\" \"kmsload manual\""
    print ".nh"
    print ".ad l"
    print ".SH NAME"
    print page " \\- " esc(summary)
    state = "start"
    current = "NAME"
}
state == "start" && /^Usage: / {
    print ".SH SYNOPSIS"
    print ".nf"
    line = $0
    sub(/^Usage: /, "", line)
    print esc(line)
    state = "usage"
    next
}
state == "usage" {
    if ($0 ~ /^ *$/) {
        print ".fi"
        state = "body"
        open_section("DESCRIPTION")
    } else {
        print esc(trim($0))
    }
    next
}
/^ *$/ {
    flush()
    next
}
{
    ind = indent_of($0)
    line = trim($0)
    if (ind == 0 && line ~ /^Exit status:/ && line !~ /^Exit status:$/) {
        open_section("EXIT STATUS")
        para = line
        sub(/^Exit status: */, "", para)
        next
    }
    if (ind == 0 && line ~ /:$/ && length(line) < 80) {
        name = section_for(line)
        if (name != "") {
            open_section(name)
        } else {
            if (current != "OPTIONS")
                open_section("OPTIONS")
            flush()
            sub(/:$/, "", line)
            print ".SS \"" esc(line) "\""
        }
        next
    }
    if (ind == 0) {
        flush_item()
        para = para == "" ? line : para " " line
        next
    }
    if (ind <= 6 && (ind == 2 || line ~ /^-/)) {
        flush()
        if (current == "DESCRIPTION" || current == "NAME")
            open_section("OPTIONS")
        sep = index(line, "  ")
        if (sep > 0) {
            term = substr(line, 1, sep - 1)
            text = trim(substr(line, sep))
        } else {
            split_single(line)
        }
        next
    }
    if (term != "") {
        text = text == "" ? line : text " " line
    } else {
        para = para == "" ? line : para " " line
    }
}
END {
    if (state == "usage")
        print ".fi"
    flush()
    if (extra != "")
        while ((getline l < extra) > 0)
            print l
    if (see_also != "") {
        print ".SH SEE ALSO"
        print see_also
    }
}
