"""Rules of the template engine that hold for all inputs (hypothesis)."""

import re

from hypothesis import given
from hypothesis import strategies as st

from templating import Tainted, parse

SPACES = " \t\r\n"
plain_text = st.text().filter(lambda text: "{{" not in text)
spacey_text = st.text(alphabet=st.sampled_from(list(SPACES) + list("ab.}{-")), max_size=20).filter(
    lambda text: "{{" not in text and not text.endswith("{")
)
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10) | st.floats(allow_nan=False),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


@given(plain_text)
def test_text_without_actions_renders_to_itself(text):
    assert parse(text).render({}) == text


@given(spacey_text, spacey_text)
def test_trimming_removes_only_white_space(before, after):
    output = parse(f"{before}{{{{- 1 -}}}}{after}").render({})
    assert output == before.rstrip(SPACES) + "1" + after.lstrip(SPACES)
    assert re.sub(f"[{SPACES}]", "", output) == re.sub(f"[{SPACES}]", "", before + "1" + after)


@given(values)
def test_tainted_values_always_go_through_emit(value):
    emitted = []

    def emit(text, source):
        emitted.append((text, source))
        return "?"

    data = {"args": Tainted({"v": value}, "args")}
    template = '{{ .args.v }}|{{ .args.v | print }}|{{ printf "%v" .args.v }}|{{ list .args.v }}'
    assert parse(template).render(data, emit=emit) == "?|?|?|?"
    assert [source for _, source in emitted] == ["args.v"] * 4
    plain = parse(template).render({"args": {"v": value}})
    assert "|".join(text for text, _ in emitted) == plain


@given(values)
def test_tainted_elements_of_a_range_go_through_emit(value):
    emitted = []
    data = {"args": Tainted({"v": [value, value]}, "args")}
    text = parse("{{ range .args.v }}{{ . }};{{ end }}").render(
        data, emit=lambda t, s: emitted.append(s) or "?"
    )
    assert text == "?;?;"
    assert emitted == ["args.v.0", "args.v.1"]
