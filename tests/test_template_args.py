"""The `.args` a template reads (project/openapi/template_args.py): one row per way a template can read one."""

from __future__ import annotations

import pytest

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
