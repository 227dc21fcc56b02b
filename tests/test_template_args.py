"""The `.args` a template reads (project/openapi/template_args.py): one row per way a template can read one."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from project.openapi.template_args import argument_names
from project.sql.rendering import compile_template

READS = [
    # (template, argument names in order of first appearance)
    ("SELECT 1", ()),
    ("SELECT '{{ .args.x }}'", ("x",)),
    ("{{ .args.b }} {{ .args.a }} {{ .args.b }}", ("b", "a")),
    ("{{ .args.x.y.z }}", ("x",)),
    ('{{ if hasKey .args "limit" }} LIMIT {{ .args.limit }} {{ end }}', ("limit",)),
    ('{{ index .args "first name" }}', ("first name",)),
    ('{{ get .args "g" }}', ("g",)),
    ('{{ dig "outer" "inner" "fallback" .args }}', ("outer",)),
    ("{{ $.args.root }}", ("root",)),
    ("{{ $a := .args }}{{ $a.aliased }}", ("aliased",)),
    ('{{ $a := .args }}{{ index $a "by_index" }}', ("by_index",)),
    ("{{ (.args).chained }}", ("chained",)),
    ("{{ default 10 .args.page_size }}", ("page_size",)),
    ("{{ .args.x | upper }}", ("x",)),
    ("{{ if and .args.p (eq .args.q 1) }}{{ else if .args.r }}{{ end }}", ("p", "q", "r")),
    ("{{ with .args.w }}{{ . }}{{ end }}", ("w",)),
    ("{{ range .args.items }}{{ .name }}{{ end }}", ("items",)),  # .name reads an item, not an argument
    ("{{ range $i, $v := .args.list }}{{ $v }}{{ end }}", ("list",)),
    ('{{ define "part" }}{{ .args.in_defined }}{{ end }}{{ template "part" . }}', ("in_defined",)),
    ("{{ as_sql_list .args.ids }}", ("ids",)),
    # not reads of a named argument
    ("{{ .user.email }} {{ .env.table }} {{ .args }}", ()),
    ('{{ $k := "x" }}{{ index .args $k }}', ()),  # a key known only when it runs
    ('{{ index .user "args" }} {{ .x.args.y }}', ()),
    ("{{ toJson .args }}", ()),
]


@pytest.mark.parametrize(("template", "names"), READS)
def test_the_arguments_a_template_reads(template, names):
    assert argument_names(compile_template(template, "apis/case.yaml")) == names


READ_FORMS = [
    "{{{{ .args.{0} }}}}",
    '{{{{ index .args "{0}" }}}}',
    '{{{{ if hasKey .args "{0}" }}}}x{{{{ end }}}}',
    "{{{{ $.args.{0} }}}}",
    "{{{{ default 1 .args.{0} }}}}",
    "{{{{ (.args).{0}.inner }}}}",
]
NOISE = [
    "{{ .user.email }}",
    "{{ .env.table }}",
    " WHERE 1 = 1 ",
    "{{ range .args.rows }}{{ .field }}{{ end }}",
]
NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda name: name not in ("rows",))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.tuples(st.sampled_from(READ_FORMS), NAMES), st.sampled_from(NOISE)), max_size=12)
)
def test_every_read_is_found_once_in_order_of_first_appearance(pieces):
    text, expected = "", {}
    for piece in pieces:
        if isinstance(piece, tuple):
            form, name = piece
            text += form.format(name)
            expected.setdefault(name, None)
        else:
            text += piece
            if "range .args.rows" in piece:
                expected.setdefault("rows", None)
    assert argument_names(compile_template(text, "apis/generated.yaml")) == tuple(expected)
