"""The template engine: Go text/template semantics, error places and taint tracking."""

import pytest

from templating import SafeText, Tainted, TemplateError, parse, template_function


def render(text, data=None, **options):
    emit = options.pop("emit", None)
    return parse(text, name="t", **options).render({} if data is None else data, emit=emit)


@pytest.mark.parametrize(
    "template, data, expected",
    [
        ("plain text", {}, "plain text"),
        ("a {{ .x }} b", {"x": 1}, "a 1 b"),
        ("a  {{- .x -}}  \n b", {"x": 1}, "a1b"),
        ("{{ .x }}{{/* note */}}!", {"x": "y"}, "y!"),
        ("a {{- /* note */ -}} b", {}, "ab"),
        ("{{ .a.b.c }}", {"a": {"b": {"c": "deep"}}}, "deep"),
        # Go: a missing key prints <no value>, and so does a key of a missing map (missingkey=default).
        ("{{ .missing }}|{{ .missing.x }}", {}, "<no value>|<no value>"),
        # Go: a nil value in a map[string]any also prints <no value> at the top level; <nil> inside lists.
        ("{{ .n }}|{{ .l }}", {"n": None, "l": [1, None]}, "<no value>|[1 <nil>]"),
        ("{{ .m }}", {"m": {"b": 2, "a": [1, "x"]}}, "map[a:[1 x] b:2]"),
        # A float prints as Go prints a float64; a whole JSON number is an int in the data and prints as one.
        (
            "{{ .f }} {{ .g }} {{ .h }} {{ .i }}",
            {"f": 1e6, "g": 2.5, "h": 1.5e-7, "i": 1000000},
            "1e+06 2.5 1.5e-07 1000000",
        ),
        (
            "{{ true }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 1_000 }} {{ 'a' }} {{ 1e3 }} {{ -2 }}",
            {},
            "true 31 15 5 1000 97 1000 -2",
        ),
        ('{{ "a\\tb" }}{{ `raw\\n` }}', {}, "a\tbraw\\n"),
        ("{{ $x := .a }}{{ $x }}{{ $.a }}", {"a": 3}, "33"),
        ("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", {}, "2"),
        ("{{ (.a).b }} {{ $m := .a }}{{ $m.b }}", {"a": {"b": 7}}, "7 7"),
        ('{{ .s | printf "%s!" }}', {"s": "hi"}, "hi!"),
        ('{{ printf "%d-%s" (len .l) (index .l 0) }}', {"l": ["x", "y"]}, "2-x"),
        ("{{ if .a }}A{{ else if .b }}B{{ else }}C{{ end }}", {"b": True}, "B"),
        ("{{ if .a }}A{{ else }}C{{ end }}", {"a": []}, "C"),
        ("{{ with .u }}{{ .name }}{{ else }}anon{{ end }}", {"u": {"name": "ann"}}, "ann"),
        ("{{ with .u }}x{{ else with .v }}{{ . }}{{ end }}", {"v": 4}, "4"),
        ("{{ range .l }}[{{ . }}]{{ end }}", {"l": [1, 2]}, "[1][2]"),
        ("{{ range $i, $v := .l }}{{ $i }}={{ $v }} {{ end }}", {"l": ["a", "b"]}, "0=a 1=b "),
        ("{{ range $k, $v := .m }}{{ $k }}{{ $v }}{{ end }}", {"m": {"b": 2, "a": 1}}, "a1b2"),
        ("{{ range .l }}x{{ else }}empty{{ end }}", {"l": []}, "empty"),
        ("{{ range 3 }}{{ . }}{{ end }}", {}, "012"),
        (
            "{{ range .l }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ if eq . 4 }}{{ break }}{{ end }}{{ . }}{{ end }}",
            {"l": [1, 2, 3, 4, 5]},
            "13",
        ),
        (
            '{{ define "x" }}<{{ . }}>{{ end }}{{ template "x" .a }}{{ block "b" 1 }}B{{ . }}{{ end }}',
            {"a": 5},
            "<5>B1",
        ),
        ('{{ and 1 0 }} {{ or 0 "" 3 }} {{ not 0 }} {{ and 1 2 }}', {}, "0 3 true 2"),
        (
            '{{ eq 1 2 1 }} {{ ne "a" "b" }} {{ lt 1 2 }} {{ ge 2.5 2.5 }} {{ eq .missing "x" }}',
            {},
            "true true true true false",
        ),
        (
            '{{ len "héllo" }} {{ index .m "k" }} {{ slice .l 1 3 }}',
            {"m": {"k": "v"}, "l": [1, 2, 3]},
            "6 v [2 3]",
        ),
        ('{{ print 1 2 "a" 3 }}|{{ println "x" 1 }}', {}, "1 2a3|x 1\n"),
        (
            '{{ html "<a href=\'x\'>" }} {{ js "it\'s <b>" }} {{ urlquery "a b&c" }}',
            {},
            "&lt;a href=&#39;x&#39;&gt; it\\'s \\u003Cb\\u003E a+b%26c",
        ),
        (
            '{{ default "d" .x }} {{ default "d" .y }} {{ empty .l }} {{ coalesce 0 "" "c" }}',
            {"y": "v", "l": []},
            "d v true c",
        ),
        (
            '{{ ternary "yes" "no" true }} {{ hasKey .m "a" }} {{ list 1 "a" }} {{ dict "k" 1 }}',
            {"m": {"a": 1}},
            "yes true [1 a] map[k:1]",
        ),
        (
            '{{ upper "ab" }} {{ lower "AB" }} {{ trim "  x  " }} {{ quote "a\\"b" }} {{ squote "x" }}',
            {},
            'AB ab x "a\\"b" \'x\'',
        ),
        ('{{ join ", " .l }} {{ .l | join "-" }}', {"l": ["a", 1, None, "b"]}, "a, 1, b a-1-b"),
    ],
)
def test_renders_like_go(template, data, expected):
    assert render(template, data) == expected


@pytest.mark.parametrize(
    "template, data, message",
    [
        # Parse errors: Go's `template: NAME:LINE: message` (the column stays in the error's fields).
        ("x\n  {{ .a ", {}, "template: t:2: unclosed action"),
        ("{{ if .a }}x", {}, "template: t:1: unexpected EOF"),
        ("{{ foo 1 }}", {}, 'template: t:1: function "foo" not defined'),
        ("{{ $x }}", {}, 'template: t:1: undefined variable "$x"'),
        ("{{ end }}", {}, "template: t:1: unexpected {{end}}"),
        # Execution errors: Go's 0-based byte column and the failing node.
        (
            "{{ hasKey .m }}",
            {"m": {}},
            'template: t:1:3: executing "t" at <hasKey>: wrong number of args for hasKey: want 2 got 1',
        ),
        (
            "{{ .s.x }}",
            {"s": "str"},
            'template: t:1:5: executing "t" at <.s.x>: can\'t evaluate field x in type interface {}',
        ),
        ("{{ with .s }}{{ .x }}{{ end }}", {"s": "str"}, "can't evaluate field x in type string"),
        (
            "é {{ range .s }}{{ end }}",
            {"s": "5"},
            'template: t:1:12: executing "t" at <.s>: range can\'t iterate over 5',
        ),
        # Go: a key of a nil value (not a missing one) is an error.
        ("{{ .n.x }}", {"n": None}, "nil pointer evaluating interface {}.x"),
        (
            "{{ eq 1 1.0 }}",
            {},
            'executing "t" at <eq 1 1.0>: error calling eq: incompatible types for comparison',
        ),
        ("{{ index .l 5 }}", {"l": [1]}, "error calling index: index out of range: 5"),
        ("{{ break }}", {}, "{{break}} outside {{range}}"),
        ('{{ template "nope" }}', {}, 'at <{{template "nope"}}>: template "nope" not defined'),
        ('{{ define "d" }}{{ .x.y }}{{ end }}{{ template "d" 1 }}', {}, 'executing "d" at <.x.y>'),
        ("{{ upper 1 }}", {}, 'executing "t" at <1>: expected string; found 1'),
        ("{{ upper .i }}", {"i": 1}, "at <.i>: wrong type for value; expected string; got int64"),
        ("{{ upper (first .el) }}", {"el": []}, "at <.el>: invalid value; expected string"),
        ("{{ 1 | 2 }}", {}, "non executable command in pipeline stage 2"),
        ("{{ nil }}", {}, "nil is not a command"),
        ("{{ (1 }}", {}, "unclosed left paren"),
        ("{{ 3x }}", {}, 'bad number syntax: "3x"'),
        ('{{ "abc }}', {}, "unterminated quoted string"),
        ("{{/* x */ }}", {}, "comment ends before closing delimiter"),
    ],
)
def test_errors_say_what_and_where(template, data, message):
    with pytest.raises(TemplateError) as caught:
        render(template, data)
    assert message in str(caught.value)


def test_error_carries_place_and_line_offset():
    with pytest.raises(TemplateError) as caught:
        parse("SELECT 1\nWHERE {{ .a", name="apis/top.yaml", line_offset=10)
    error = caught.value
    assert (error.name, error.line, error.column, error.message) == (
        "apis/top.yaml",
        12,
        7,
        "unclosed action",
    )
    assert str(error) == "template: apis/top.yaml:12: unclosed action"


def test_execution_error_carries_gos_place():
    template = parse("SELECT 1\nWHERE x = {{ index .l 3 }}", name="apis/top.yaml", line_offset=10)
    with pytest.raises(TemplateError) as caught:
        template.render({"l": []})
    error = caught.value
    assert (error.line, error.column) == (12, 13)
    assert (
        error.message
        == 'executing "apis/top.yaml" at <index .l 3>: error calling index: index out of range: 3'
    )
    assert str(error) == f"template: apis/top.yaml:12:13: {error.message}"


def collect(template, data, **options):
    emitted = []

    def emit(text, source):
        emitted.append((text, source))
        return f"${len(emitted)}"

    return render(template, data, emit=emit, **options), emitted


ARGS = {
    "args": Tainted({"domain": "x' OR 1=1", "n": 5, "ids": [1, 2], "flag": ""}, "args"),
    "env": {"table": "t"},
}


@pytest.mark.parametrize(
    "template, expected, emitted",
    [
        ("{{ .args.domain }}", "$1", [("x' OR 1=1", "args.domain")]),
        ("{{ .env.table }} {{ .args.n }}", "t $1", [("5", "args.n")]),
        ("{{ .args.domain | upper }}", "$1", [("X' OR 1=1", "args.domain")]),
        ('{{ printf "%s-%d" "k" .args.n }}', "$1", [("k-5", "args.n")]),
        ('{{ default "10" .args.limit }}', "$1", [("10", "args.limit")]),
        ("{{ .args.missing }}", "$1", [("<no value>", "args.missing")]),
        ('{{ index .args.ids 1 }} {{ index .args "n" }}', "$1 $2", [("2", "args.ids.1"), ("5", "args.n")]),
        ("{{ range .args.ids }}{{ . }},{{ end }}", "$1,$2,", [("1", "args.ids.0"), ("2", "args.ids.1")]),
        ("{{ if .args.n }}yes{{ end }}{{ if .args.flag }}no{{ end }}", "yes", []),
        ('{{ "const" }} {{ 5 }} {{ .env.table | upper }}', "const 5 T", []),
        ("{{ with .args.domain }}{{ . }}{{ end }}", "$1", [("x' OR 1=1", "args.domain")]),
        ("{{ $d := .args.domain }}{{ $d }}{{ $d }}", "$1$2", [("x' OR 1=1", "args.domain")] * 2),
        ("{{ .args.ids }}", "$1", [("[1 2]", "args.ids")]),
        ("{{ list .env.table .args.n }}", "$1", [("[t 5]", "args.n")]),
    ],
)
def test_tainted_values_print_through_emit(template, expected, emitted):
    assert collect(template, ARGS) == (expected, emitted)


NAMES = {
    "args": Tainted({"f": {"b'": 1, "a": {"x y": 2}}, "k": "a"}, "args"),
    "user": Tainted({"role'": "r"}, "user"),
}


def put(mapping, key, value):
    """A function that mutates its argument, as Sprig's `set` does."""
    mapping[key] = value
    return mapping


@template_function(raw_args=True)
def pair(left, right):
    return (left, right)


@pytest.mark.parametrize(
    "template, expected, emitted",
    [
        (
            "{{ range $k, $v := .args.f }}{{ $k }}={{ $v }};{{ end }}",
            "$1=$2;$3=$4;",
            [("a", "args.f.a"), ("map[x y:2]", "args.f.a"), ("b'", "args.f.b'"), ("1", "args.f.b'")],
        ),
        ("{{ range $k, $v := .args.f.a }}{{ $k }}{{ end }}", "$1", [("x y", "args.f.a.x y")]),
        ("{{ range $k, $v := .user }}{{ $k }}{{ end }}", "$1", [("role'", "user.role'")]),
        (
            "{{ range $k, $v := .args.f }}{{ $k | upper }}{{ end }}",
            "$1$2",
            [("A", "args.f.a"), ("B'", "args.f.b'")],
        ),
        (
            "{{ range $k, $_ := .args.f }}{{ range $n, $_ := dict $k 1 }}{{ $n }}{{ end }}{{ end }}",
            "$1$2",
            [("a", "args.f.a.a"), ("b'", "args.f.b'.b'")],
        ),
        ("{{ range $i, $k := keys .args.f }}{{ $i }}{{ end }}", "01", []),
        ('{{ index (dict "a" "DROP") .args.k }}', "$1", [("DROP", "args.k")]),
        ('{{ $d := dict "k" "v" }}{{ $_ := put $d "k" .args.k }}{{ $d.k }}', "v", []),
        ('{{ $d := dict "k" "v" }}{{ (put $d "k" .args.k).k }}', "$1", [("a", "args.k.k")]),
        ('{{ pair "x" .args.k }}', "$1", [("[x a]", "args.k")]),
        ('{{ range $k, $v := .args.f }}{{ if eq $k "a" }}A{{ end }}{{ end }}', "A", []),
        ('{{ eq .args.k "a" }}', "$1", [("true", "args.k")]),
    ],
)
def test_caller_names_print_through_emit(template, expected, emitted):
    assert collect(template, NAMES, functions={"put": put, "pair": pair}) == (expected, emitted)


def test_tainted_values_print_plainly_without_emit():
    assert render("{{ .args.domain }}", ARGS) == "x' OR 1=1"


def test_taint_nested_in_plain_containers_still_goes_through_emit():
    data = {"all": {"a": Tainted("v", "args.a")}}
    assert collect("{{ .all }}", data) == ("$1", [("map[a:v]", "args.a")])


def test_raw_args_function_with_state_sees_taint():
    @template_function(raw_args=True, wants_state=True)
    def as_list(state, value):
        assert state.data is data
        source = value.source if isinstance(value, Tainted) else None
        return SafeText(f"({source})")

    data = {"args": Tainted({"ids": [1]}, "args")}
    text, emitted = collect("{{ as_list .args.ids }}", data, functions={"as_list": as_list})
    assert (text, emitted) == ("(args.ids)", [])


def test_only_a_raw_args_function_may_return_safe_text_from_tainted_arguments():
    def laundering(value):
        return SafeText(value)

    @template_function(raw_args=True)
    def constant(value):
        return SafeText("safe")

    functions = {"laundering": laundering, "constant": constant}
    assert collect("{{ laundering .args.domain }}", ARGS, functions=functions) == (
        "$1",
        [("x' OR 1=1", "args.domain")],
    )
    assert collect("{{ constant .args.domain }}", ARGS, functions=functions) == ("safe", [])


def test_template_is_reusable_and_independent_between_renders():
    template = parse("{{ $x := .a }}{{ range .l }}{{ $x }}{{ . }}{{ end }}")
    assert template.render({"a": 1, "l": [2]}) == "12"
    assert template.render({"a": 3, "l": [4, 5]}) == "3435"
