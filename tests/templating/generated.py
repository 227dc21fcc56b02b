"""The generated conformance set: templates written per feature, calls of every Sprig function built from its
Go signature, and grammar-based random templates (fixed seed). Each case is {t, name, data}.

Non-deterministic functions (rand*, uuidv4, now, shuffle, bcrypt, key and certificate generation, AES
encryption) are compared through properties that are deterministic (length, pattern, type).
"""

from __future__ import annotations

import itertools
import random
import re
from typing import Any

DATA: dict[str, Any] = {
    "s": "abc",
    "i": 5,
    "f": 2.5,
    "t": True,
    "z": 0,
    "e": "",
    "n": None,
    "l": [1, 2, 3],
    "sl": ["a", "b", "c"],
    "el": [],
    "m": {"b": 2, "a": 1, "c": 3},
    "em": {},
    "nested": {"a": {"b": {"c": "deep"}}, "list": [[1, 2], [3, 4]]},
    "mixed": [1, "a", None, 2.5, True, [1], {"k": "v"}],
    "neg": -7,
    "big": 9223372036854775807,
    "words": "Hello wide World_of  go-templates",
    "path": "/usr/local/lib/file.tar.gz",
    "url": "https://user:pw@example.com:8080/a/b?q=1&r=x#frag",
    "ver": "1.2.3-beta.1+build.5",
    "day": "2024-05-01",
    "json": '{"a": 1, "b": [1, 2.5, "x"], "c": {"d": null}}',
    "csv": "a,b,,c",
    "html": "<a href=\"x\">'q' & r</a>",
}

# Go's signature of every function Rill exposes (Sprig 3.2.3's TxtFuncMap without env and expandenv).
SIGNATURES = """
    abbrev func(int, string) string
    abbrevboth func(int, int, string) string
    add func(...interface {}) int64
    add1 func(interface {}) int64
    add1f func(interface {}) float64
    addf func(...interface {}) float64
    adler32sum func(string) string
    ago func(interface {}) string
    all func(...interface {}) bool
    any func(...interface {}) bool
    append func(interface {}, interface {}) []interface {}
    atoi func(string) int
    b32dec func(string) string
    b32enc func(string) string
    b64dec func(string) string
    b64enc func(string) string
    base func(string) string
    bcrypt func(string) string
    biggest func(interface {}, ...interface {}) int64
    buildCustomCert func(string, string) (sprig.certificate, error)
    camelcase func(string) string
    cat func(...interface {}) string
    ceil func(interface {}) float64
    chunk func(int, interface {}) [][]interface {}
    clean func(string) string
    coalesce func(...interface {}) interface {}
    compact func(interface {}) []interface {}
    concat func(...interface {}) interface {}
    contains func(string, string) bool
    date func(string, interface {}) string
    dateInZone func(string, interface {}, string) string
    dateModify func(string, time.Time) time.Time
    date_in_zone func(string, interface {}, string) string
    date_modify func(string, time.Time) time.Time
    decryptAES func(string, string) (string, error)
    deepCopy func(interface {}) interface {}
    deepEqual func(interface {}, interface {}) bool
    default func(interface {}, ...interface {}) interface {}
    derivePassword func(uint32, string, string, string, string) string
    dict func(...interface {}) map[string]interface {}
    dig func(...interface {}) (interface {}, error)
    dir func(string) string
    div func(interface {}, interface {}) int64
    divf func(interface {}, ...interface {}) float64
    duration func(interface {}) string
    durationRound func(interface {}) string
    empty func(interface {}) bool
    encryptAES func(string, string) (string, error)
    ext func(string) string
    fail func(string) (string, error)
    first func(interface {}) interface {}
    float64 func(interface {}) float64
    floor func(interface {}) float64
    fromJson func(string) interface {}
    genCA func(string, int) (sprig.certificate, error)
    genCAWithKey func(string, int, string) (sprig.certificate, error)
    genPrivateKey func(string) string
    genSelfSignedCert func(string, []interface {}, []interface {}, int) (sprig.certificate, error)
    genSelfSignedCertWithKey func(string, []interface {}, []interface {}, int, string) (sprig.certificate, error)
    genSignedCert func(string, []interface {}, []interface {}, int, sprig.certificate) (sprig.certificate, error)
    genSignedCertWithKey func(string, []interface {}, []interface {}, int, sprig.certificate, string) (sprig.certificate, error)
    get func(map[string]interface {}, string) interface {}
    getHostByName func(string) string
    has func(interface {}, interface {}) bool
    hasKey func(map[string]interface {}, string) bool
    hasPrefix func(string, string) bool
    hasSuffix func(string, string) bool
    hello func() string
    htmlDate func(interface {}) string
    htmlDateInZone func(interface {}, string) string
    htpasswd func(string, string) string
    indent func(int, string) string
    initial func(interface {}) []interface {}
    initials func(string) string
    int func(interface {}) int
    int64 func(interface {}) int64
    isAbs func(string) bool
    join func(string, interface {}) string
    kebabcase func(string) string
    keys func(...map[string]interface {}) []string
    kindIs func(string, interface {}) bool
    kindOf func(interface {}) string
    last func(interface {}) interface {}
    list func(...interface {}) []interface {}
    lower func(string) string
    max func(interface {}, ...interface {}) int64
    maxf func(interface {}, ...interface {}) float64
    merge func(map[string]interface {}, ...map[string]interface {}) interface {}
    mergeOverwrite func(map[string]interface {}, ...map[string]interface {}) interface {}
    min func(interface {}, ...interface {}) int64
    minf func(interface {}, ...interface {}) float64
    mod func(interface {}, interface {}) int64
    mul func(interface {}, ...interface {}) int64
    mulf func(interface {}, ...interface {}) float64
    mustAppend func(interface {}, interface {}) ([]interface {}, error)
    mustChunk func(int, interface {}) ([][]interface {}, error)
    mustCompact func(interface {}) ([]interface {}, error)
    mustDateModify func(string, time.Time) (time.Time, error)
    mustDeepCopy func(interface {}) (interface {}, error)
    mustFirst func(interface {}) (interface {}, error)
    mustFromJson func(string) (interface {}, error)
    mustHas func(interface {}, interface {}) (bool, error)
    mustInitial func(interface {}) ([]interface {}, error)
    mustLast func(interface {}) (interface {}, error)
    mustMerge func(map[string]interface {}, ...map[string]interface {}) (interface {}, error)
    mustMergeOverwrite func(map[string]interface {}, ...map[string]interface {}) (interface {}, error)
    mustPrepend func(interface {}, interface {}) ([]interface {}, error)
    mustPush func(interface {}, interface {}) ([]interface {}, error)
    mustRegexFind func(string, string) (string, error)
    mustRegexFindAll func(string, string, int) ([]string, error)
    mustRegexMatch func(string, string) (bool, error)
    mustRegexReplaceAll func(string, string, string) (string, error)
    mustRegexReplaceAllLiteral func(string, string, string) (string, error)
    mustRegexSplit func(string, string, int) ([]string, error)
    mustRest func(interface {}) ([]interface {}, error)
    mustReverse func(interface {}) ([]interface {}, error)
    mustSlice func(interface {}, ...interface {}) (interface {}, error)
    mustToDate func(string, string) (time.Time, error)
    mustToJson func(interface {}) (string, error)
    mustToPrettyJson func(interface {}) (string, error)
    mustToRawJson func(interface {}) (string, error)
    mustUniq func(interface {}) ([]interface {}, error)
    mustWithout func(interface {}, ...interface {}) ([]interface {}, error)
    must_date_modify func(string, time.Time) (time.Time, error)
    nindent func(int, string) string
    nospace func(string) string
    now func() time.Time
    omit func(map[string]interface {}, ...string) map[string]interface {}
    osBase func(string) string
    osClean func(string) string
    osDir func(string) string
    osExt func(string) string
    osIsAbs func(string) bool
    pick func(map[string]interface {}, ...string) map[string]interface {}
    pluck func(string, ...map[string]interface {}) []interface {}
    plural func(string, string, int) string
    prepend func(interface {}, interface {}) []interface {}
    push func(interface {}, interface {}) []interface {}
    quote func(...interface {}) string
    randAlpha func(int) string
    randAlphaNum func(int) string
    randAscii func(int) string
    randBytes func(int) (string, error)
    randInt func(int, int) int
    randNumeric func(int) string
    regexFind func(string, string) string
    regexFindAll func(string, string, int) []string
    regexMatch func(string, string) bool
    regexQuoteMeta func(string) string
    regexReplaceAll func(string, string, string) string
    regexReplaceAllLiteral func(string, string, string) string
    regexSplit func(string, string, int) []string
    repeat func(int, string) string
    replace func(string, string, string) string
    rest func(interface {}) []interface {}
    reverse func(interface {}) []interface {}
    round func(interface {}, int, ...float64) float64
    semver func(string) (*semver.Version, error)
    semverCompare func(string, string) (bool, error)
    seq func(...int) string
    set func(map[string]interface {}, string, interface {}) map[string]interface {}
    sha1sum func(string) string
    sha256sum func(string) string
    shuffle func(string) string
    slice func(interface {}, ...interface {}) interface {}
    snakecase func(string) string
    sortAlpha func(interface {}) []string
    split func(string, string) map[string]string
    splitList func(string, string) []string
    splitn func(string, int, string) map[string]string
    squote func(...interface {}) string
    sub func(interface {}, interface {}) int64
    subf func(interface {}, ...interface {}) float64
    substr func(int, int, string) string
    swapcase func(string) string
    ternary func(interface {}, interface {}, bool) interface {}
    title func(string) string
    toDate func(string, string) time.Time
    toDecimal func(interface {}) int64
    toJson func(interface {}) string
    toPrettyJson func(interface {}) string
    toRawJson func(interface {}) string
    toString func(interface {}) string
    toStrings func(interface {}) []string
    trim func(string) string
    trimAll func(string, string) string
    trimPrefix func(string, string) string
    trimSuffix func(string, string) string
    trimall func(string, string) string
    trunc func(int, string) string
    tuple func(...interface {}) []interface {}
    typeIs func(string, interface {}) bool
    typeIsLike func(string, interface {}) bool
    typeOf func(interface {}) string
    uniq func(interface {}) []interface {}
    unixEpoch func(time.Time) string
    unset func(map[string]interface {}, string) map[string]interface {}
    until func(int) []int
    untilStep func(int, int, int) []int
    untitle func(string) string
    upper func(string) string
    urlJoin func(map[string]interface {}) string
    urlParse func(string) map[string]interface {}
    uuidv4 func() string
    values func(map[string]interface {}) []interface {}
    without func(interface {}, ...interface {}) []interface {}
    wrap func(int, string) string
    wrapWith func(int, string, string) string"""
NON_DETERMINISTIC = frozenset(
    [
        "ago",
        "bcrypt",
        "buildCustomCert",
        "encryptAES",
        "decryptAES",
        "genCA",
        "genCAWithKey",
        "genPrivateKey",
        "genSelfSignedCert",
        "genSelfSignedCertWithKey",
        "genSignedCert",
        "genSignedCertWithKey",
        "getHostByName",
        "htpasswd",
        "now",
        "randAlpha",
        "randAlphaNum",
        "randAscii",
        "randBytes",
        "randInt",
        "randNumeric",
        "shuffle",
        "uuidv4",
        "keys",
        "values",
    ]
)
# Slow in Go (key generation, scrypt, bcrypt): only the few cases written by hand.
SLOW = frozenset(
    [
        "bcrypt",
        "buildCustomCert",
        "derivePassword",
        "genCA",
        "genCAWithKey",
        "genPrivateKey",
        "genSelfSignedCert",
        "genSelfSignedCertWithKey",
        "genSignedCert",
        "genSignedCertWithKey",
        "htpasswd",
    ]
)
# Arguments by Go parameter type: valid values first, then ones Go refuses.
POOLS: dict[str, list[str]] = {
    "string": [
        '"abc"',
        '""',
        ".words",
        '"a,b,,c"',
        '"Hello World"',
        ".s",
        '"3"',
        "3",
        ".missing",
        "nil",
        ".i",
    ],
    "int": ["3", "0", "-2", "(len .s)", "10", ".i", '"3"', "2.5", ".missing", "nil"],
    "uint32": ["1", "0", "-1", ".i"],
    "bool": ["true", "false", ".t", "1", ".missing"],
    "float64": ["0.5", "2", ".f", '"x"'],
    "interface {}": [
        '"abc"',
        '""',
        "3",
        "0",
        "-2",
        "2.5",
        "true",
        "false",
        "nil",
        ".i",
        ".f",
        ".neg",
        ".l",
        ".sl",
        ".el",
        ".m",
        ".em",
        ".missing",
        ".n",
        '"3"',
        '"1.5"',
        ".mixed",
        "(list 3 1 2)",
        '(list "b" "a" "b")',
        '(dict "a" 1 "b" (list 1 2))',
        '(toDate "2006-01-02" "2024-05-01")',
        '(semver "1.2.3")',
        '(splitList "," "x,y")',
        "(until 3)",
    ],
    "map[string]interface {}": [
        ".m",
        ".em",
        '(dict "a" 1 "b" "x")',
        ".nested",
        ".s",
        ".missing",
        "nil",
        ".l",
    ],
    "[]interface {}": ['(list "a.com" "b.com")', ".sl", ".el", ".s", "nil"],
    "time.Time": [
        '(toDate "2006-01-02" "2024-05-01")',
        '(toDate "2006-01-02 15:04" "2024-02-29 23:59")',
        ".s",
        "nil",
    ],
    "sprig.certificate": [".m"],
}


def signatures() -> dict[str, tuple[list[str], str | None]]:
    """Function name -> (Go parameter types, variadic element type or None)."""
    table = {}
    for line in SIGNATURES.strip().splitlines():
        name, signature = line.strip().split(" ", 1)
        inside = signature[len("func(") : signature.index(")")]
        params = [part.strip() for part in inside.split(",") if part.strip()] if inside else []
        variadic = params.pop()[3:] if params and params[-1].startswith("...") else None
        table[name] = (params, variadic)
    return table


def case(text: str, data: Any = None) -> dict[str, Any]:
    """One case; Go names the template "" as Rill does (ours is named "t" for its errors)."""
    return {"t": text, "name": "", "data": DATA if data is None else data}


# Functions that read the clock unless given a time (the argument's position) and the values that avoid it.
CLOCK_ARGUMENT = {
    "date": 1,
    "dateInZone": 1,
    "date_in_zone": 1,
    "htmlDate": 0,
    "htmlDateInZone": 0,
    "durationRound": 0,
}
CLOCK_FREE = ['(toDate "2006-01-02" "2024-05-01")', "0", "1700000000", ".i", ".neg", '"90m"', '"bad"']


def signature_calls(rng: random.Random) -> list[str]:
    """Calls of every deterministic function with arguments drawn from the pools of its parameter types."""
    calls: list[str] = []
    for name, (params, variadic) in signatures().items():
        if name in NON_DETERMINISTIC or name in SLOW:
            continue
        shapes = [params + [variadic] * count for count in range(4)] if variadic else [params]
        combos: list[tuple[str, ...]] = []
        for shape in shapes:
            pools = [POOLS[param] for param in shape]
            if name in CLOCK_ARGUMENT:  # any other value means "now": the text would change with the clock
                pools[CLOCK_ARGUMENT[name]] = CLOCK_FREE[
                    name == "durationRound" :
                ]  # it measures a time from now
            every = list(itertools.product(*pools)) if pools else [()]
            combos.extend(every if len(every) <= 30 else rng.sample(every, 16))
        calls.extend(f"{{{{ {name} {' '.join(args)} }}}}".replace("  ", " ") for args in combos)
    return calls


# Written per feature: the semantics that random arguments rarely reach.
FEATURES = r"""
{{ add1 1 }} {{ add1 .i }} {{ add1 "7" }} {{ add1 2.9 }} {{ add1 nil }}
{{ add 9223372036854775807 1 }}|{{ mul .big 2 }}|{{ sub -9223372036854775807 10 }}
{{ 9223372036854775807 }}
{{ 9223372036854775808 }}
{{ -9223372036854775808 }}
{{ 1e400 }}
{{ 08 }}
{{ 0x10 }} {{ 0o10 }} {{ 0b10 }} {{ 1_0 }} {{ 010 }}
{{ 1e6 }} {{ 1e20 }} {{ 1e21 }} {{ 3.0 }} {{ 100000.0 }} {{ 1234567.0 }} {{ 0.000001 }}
{{ addf 1.1 2.2 }} {{ addf 1 2 }} {{ subf 10 0.1 }} {{ mulf 1.5 2 }} {{ divf 1 3 }} {{ divf 10 4 }}
{{ add1f 1.5 }} {{ maxf 1 2.5 -3 }} {{ minf 1 2.5 -3 }} {{ divf 1 0 }}
{{ max 1 9 3 }} {{ min 4 2 8 }} {{ biggest 3 "7" }} {{ max "x" 2 }}
{{ until 5 }} {{ until -3 }} {{ until 0 }} {{ untilStep 0 10 3 }} {{ untilStep 10 0 -4 }} {{ untilStep 1 5 0 }}
{{ seq 5 }} {{ seq 2 5 }} {{ seq 5 2 }} {{ seq 0 2 10 }} {{ seq 10 -3 1 }} {{ seq }} {{ seq 1 2 3 4 }}
{{ round 2.345 2 }} {{ round -2.5 0 }} {{ round 12345.6789 -2 }} {{ floor -1.5 }} {{ ceil "2.1" }}
{{ toDecimal "0777" }} {{ toDecimal "0x1f" }} {{ toDecimal 8 }} {{ toDecimal "x" }}
{{ int64 "12" }} {{ int "9223372036854775807" }} {{ int 1e19 }} {{ float64 "1e3" }} {{ atoi " 5" }}
{{ sortAlpha (list "b" "a" 3 1) }} {{ sortAlpha "x" }} {{ sortAlpha .m }}
{{ reverse .l }} {{ reverse .el }} {{ reverse "abc" }} {{ compact (list 0 1 "" "a" nil false .el) }}
{{ chunk 2 (list 1 2 3 4 5) }} {{ chunk 3 .el }} {{ chunk 2 "ab" }}
{{ concat .l (list 4) .sl }} {{ concat .l "x" }} {{ concat }}
{{ slice .l 1 }} {{ slice .l 1.0 }} {{ slice .l 0 2 }} {{ slice .l 3 1 }} {{ slice "hello" 1 3 }} {{ slice .l 5 }}
{{ mustSlice .l 1 }} {{ mustSlice .s 1 }} {{ slice .l "1" }}
{{ rest .el }} {{ initial .el }} {{ first .el }} {{ last .el }} {{ rest "x" }} {{ mustRest "x" }}
{{ first .sl }} {{ mustFirst .sl }} {{ mustFirst 5 }} {{ mustLast .l }} {{ mustInitial .l }} {{ mustReverse 3 }}
{{ has 2 .l }} {{ has 2 (list 1 2) }} {{ mustHas 3 .l }} {{ has "a" .sl }} {{ has 1 "x" }} {{ mustHas 1 "x" }}
{{ without .l 2 }} {{ without (list 1 2 3) 2 }} {{ mustWithout .sl "b" }} {{ without "x" 1 }}
{{ uniq (list 1 2 1 "a" "a" 1.0) }} {{ uniq .l }} {{ mustUniq "x" }}
{{ append .l 4 }} {{ push .sl "d" }} {{ mustPush .s 1 }} {{ prepend .l 0 }} {{ mustPrepend nil 1 }}
{{ dig "a" "b" "c" "none" .nested }} {{ dig "a" "x" "none" .nested }} {{ dig "a" .nested }} {{ dig .nested }}
{{ dig "a" "b" "none" (dict "a" 1) }}
{{ get .m "a" }} {{ get .m "zz" }} {{ get .em "x" }}
{{ $d := dict "a" 1 }}{{ set $d "b" 2 }} {{ unset $d "a" }} {{ $d }}
{{ $x := set .m "z" 9 }}{{ .m }} {{ hasKey .m "z" }}
{{ pick .m "a" "c" "zz" }} {{ omit .m "a" }} {{ pick .m }} {{ omit .em "x" }}
{{ merge (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "b" 3 "n" (dict "y" 2)) }}
{{ mergeOverwrite (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "b" 3 "n" (dict "y" 2)) }}
{{ mustMerge (dict "a" nil) (dict "a" 5) }} {{ merge (dict) .m .nested }}
{{ deepCopy .nested }} {{ mustDeepCopy .l }} {{ deepCopy nil }}
{{ deepEqual .l (list 1 2 3) }} {{ deepEqual 1 1 }} {{ deepEqual .i 5 }} {{ deepEqual (list "a") (splitList "," "a") }}
{{ deepEqual .m .m }} {{ deepEqual nil nil }} {{ deepEqual .missing nil }}
{{ typeOf 1 }} {{ typeOf .i }} {{ typeOf .f }} {{ typeOf .s }} {{ typeOf .l }} {{ typeOf .m }} {{ typeOf nil }} {{ typeOf .n }}
{{ typeOf (until 2) }} {{ typeOf (splitList "," "a") }} {{ typeOf (split "," "a") }} {{ typeOf (semver "1.0.0") }}
{{ typeOf (toDate "2006" "2020") }} {{ typeOf (len "a") }} {{ typeOf (add 1 1) }} {{ typeOf (addf 1 1) }} {{ typeOf true }}
{{ typeOf (chunk 1 .l) }} {{ typeOf (dict) }} {{ typeOf (list) }} {{ typeOf (atoi "1") }} {{ typeOf (int 1) }}
{{ kindOf 1 }} {{ kindOf .i }} {{ kindOf .f }} {{ kindOf .s }} {{ kindOf .l }} {{ kindOf .m }} {{ kindOf nil }}
{{ kindOf (semver "1.0.0") }} {{ kindOf (toDate "2006" "2020") }} {{ kindOf (split "," "a") }} {{ kindOf true }}
{{ kindIs "int" 1 }} {{ kindIs "int64" .i }} {{ kindIs "slice" .l }} {{ kindIs "map" .m }} {{ kindIs "invalid" nil }}
{{ typeIs "int" 1 }} {{ typeIs "int64" .i }} {{ typeIs "[]interface {}" .l }} {{ typeIsLike "int64" .i }}
{{ typeIsLike "*semver.Version" (semver "1.0.0") }} {{ typeIsLike "semver.Version" (semver "1.0.0") }}
{{ all 1 "a" true }} {{ all 1 "" }} {{ all }} {{ any 0 "" nil }} {{ any 0 "a" }} {{ any }}
{{ empty .el }} {{ empty .em }} {{ empty 0.0 }} {{ empty (semver "0.0.0") }} {{ empty (toDate "2006" "bad") }}
{{ coalesce .missing .z .s }} {{ coalesce }} {{ ternary 1 2 true }}
{{ toJson .mixed }} {{ toRawJson .html }} {{ toJson .html }} {{ toPrettyJson .nested }} {{ toPrettyJson .el }}
{{ toPrettyJson .em }} {{ toPrettyJson (list) }} {{ toPrettyJson .mixed }} {{ mustToJson .f }} {{ mustToRawJson .l }}
{{ toJson 1.0 }} {{ toJson 1e21 }} {{ toJson 0.0000001 }} {{ toJson 1e20 }} {{ toJson (semver "1.2.3") }}
{{ toJson (toDate "2006-01-02" "2024-05-01") }} {{ toJson (split "," "a,b") }} {{ toJson (until 3) }}
{{ fromJson .json }} {{ (fromJson .json).b }} {{ fromJson "1e3" }} {{ fromJson "12345678" }} {{ fromJson "bad" }}
{{ mustFromJson "bad" }}
{{ mustFromJson "[1, 2.5]" }} {{ typeOf (fromJson "1") }} {{ fromJson "\"x\"" }} {{ fromJson "null" }}
{{ b64enc "hello" }} {{ b64dec "aGVsbG8=" }} {{ b64dec "aGVsbG8" }} {{ b64dec "!!" }} {{ b32enc "hello" }}
{{ b32dec "NBSWY3DP" }} {{ b32dec "x" }} {{ sha1sum "abc" }} {{ adler32sum "abc" }} {{ sha256sum "" }}
{{ regexFindAll "[0-9]+" "a1b22c333" -1 }} {{ regexFindAll "[0-9]+" "a1b22c333" 2 }} {{ regexFindAll "x" "abc" -1 }}
{{ regexSplit "[,;]" "a,b;c" -1 }} {{ regexSplit "," "a,b,c" 2 }} {{ regexSplit "x*" "abc" -1 }} {{ regexSplit "," "" -1 }}
{{ regexReplaceAllLiteral "a(x*)b" "-ab-axxb-" "${1}" }} {{ regexQuoteMeta "a.b*c[d]" }}
{{ regexMatch "\\p{L}+" "héllo" }} {{ regexMatch "a++" "a" }} {{ mustRegexMatch "a++" "a" }} {{ regexMatch "(?i)ABC" "abc" }}
{{ regexFind "a(" "a" }} {{ mustRegexFind "[" "a" }} {{ regexReplaceAll "(?P<x>a)" "aa" "<$x>" }} {{ regexReplaceAll "a" "aa" "$1x" }}
{{ regexReplaceAll "(a)(b)?" "ab a" "[$2]" }} {{ regexReplaceAll "" "abc" "-" }} {{ regexFindAll "" "abc" -1 }}
{{ regexMatch "^\\d+$" "١٢" }} {{ regexMatch "\\w" "é" }} {{ regexMatch "[[:alpha:]]" "a" }} {{ regexMatch "\\bx" "a x" }}
{{ regexFind "(?s)a.b" "a\nb" }} {{ regexFind "a.b" "a\nb" }} {{ regexFind "^b" "a\nb" }} {{ regexFind "(?m)^b" "a\nb" }}
{{ semverCompare ">=1.2.0" "1.2.3" }} {{ semverCompare "<1.0" "1.2.3" }} {{ semverCompare "~1.2" "1.2.9" }} {{ semverCompare "^1" "2.0.0" }}
{{ semverCompare "bad" "1.0.0" }}
{{ semverCompare "1.x" "1.5.0" }} {{ semverCompare ">1.0 <2.0 || 3.x" "3.1.0" }} {{ semverCompare ">=1.0.0-0" "1.0.0-beta" }}
{{ semverCompare "*" "0.0.1" }} {{ semverCompare "1.2.3 - 1.4.5" "1.3.0" }} {{ semverCompare "!=1.2.3" "1.2.3" }}
{{ semverCompare "1.0.0" "x" }}
{{ (semver "1.2.3").IncMinor }} {{ (semver "1.2.3").IncMajor }} {{ (semver "1.2.3-beta").IncPatch }}
{{ (semver "1.2.3").Compare (semver "1.3.0") }} {{ (semver "1.2.3").LessThan (semver "1.3.0") }} {{ (semver "2.0.0").GreaterThan (semver "1.3.0") }}
{{ (semver "1.2.3").Equal (semver "v1.2.3") }} {{ (semver "v1.2.3").Original }} {{ (semver "1.2.3").String }} {{ semver "1.2.3" | printf "%v" }}
{{ (semver "1.2.3-alpha").Prerelease }} {{ (semver "1.2.3+meta").Metadata }} {{ (semver "1.2").Minor }} {{ semver "1" }} {{ semver "1.2.3.4" }}
{{ semver "01.2.3" }} {{ semver "v1.2.3" }} {{ semver "1.2.3-" }} {{ semver "" }} {{ semver "1.2.3-01" }}
{{ (toDate "2006-01-02" "2024-05-01").Year }} {{ (toDate "2006-01-02" "2024-05-01").Month }} {{ (toDate "2006-01-02" "2024-05-01").Day }}
{{ (toDate "2006-01-02" "2024-05-01").Format "Jan 2" }} {{ (toDate "2006-01-02" "2024-05-01").Unix }} {{ (toDate "2006-01-02" "2024-05-01").Weekday }}
{{ (toDate "2006-01-02" "2024-05-01").YearDay }} {{ (toDate "2006-01-02" "2024-05-01").UTC }} {{ (toDate "2006-01-02 15:04" "2024-05-01 13:45").Hour }}
{{ (toDate "2006-01-02" "2024-05-01").IsZero }} {{ (toDate "2006-01-02" "x").IsZero }} {{ (toDate "2006-01-02" "2024-05-01").AddDate 0 1 0 }}
{{ toDate "2006-01-02T15:04:05Z07:00" "2024-05-01T10:30:00+02:00" }} {{ toDate "2006-01-02 15:04 MST" "2024-05-01 10:30 CET" }}
{{ mustToDate "2006-01-02" "x" }}
{{ mustToDate "2006-01-02" "2024-13-01" }}
{{ toDate "2006-01-02" "2024-02-30" }} {{ toDate "Jan 2 2006" "Feb 3 2021" }} {{ toDate "02/01/06" "03/02/21" }} {{ toDate "3:04PM" "1:05AM" }}
{{ date "2006-01-02T15:04:05.000Z07:00" 1700000000 }} {{ date "Mon Jan _2 15:04:05 2006" 1700000000 }} {{ date "2006" "x" | len }}
{{ date "02 Jan 06 15:04 -0700" (toDate "2006-01-02" "2024-05-01") }} {{ date "2006-01-02" .i }} {{ date "3:04:05.999 pm" 1700000000 }}
{{ dateInZone "2006-01-02 15:04 MST" 1700000000 "UTC" }} {{ dateInZone "2006-01-02 15:04 MST" 1700000000 "Europe/Paris" }}
{{ dateInZone "2006-01-02 15:04 -07:00" 1700000000 "America/New_York" }} {{ dateInZone "2006" 0 "Nowhere/Bad" }} {{ date_in_zone "15:04" 0 "Asia/Kolkata" }}
{{ htmlDate 1700000000 }} {{ htmlDate (toDate "2006-01-02" "2024-05-01") }} {{ htmlDateInZone 1700000000 "Asia/Tokyo" }}
{{ dateModify "1h30m" (toDate "2006-01-02" "2024-05-01") }} {{ date_modify "-24h" (toDate "2006-01-02" "2024-05-01") }}
{{ mustDateModify "x" (toDate "2006-01-02" "2024-05-01") }}
{{ mustDateModify "1.5h" (toDate "2006-01-02" "2024-05-01") }} {{ must_date_modify "90s" (toDate "2006-01-02" "2024-05-01") }}
{{ duration 90 }} {{ duration "90" }} {{ duration 3700 }} {{ duration 2.5 }} {{ duration -61 }} {{ duration .i }} {{ duration nil }}
{{ durationRound "2h10m5s" }} {{ durationRound 3000 }} {{ durationRound "45s" }} {{ durationRound "bad" }} {{ durationRound 100000000 }}
{{ durationRound (toDate "2006" "2020") }} {{ durationRound "-3h" }} {{ durationRound "400h" }} {{ durationRound "9000h" }}
{{ (toDate "2006-01-02" "2024-05-01").Sub (toDate "2006-01-02" "2024-04-30") }} {{ unixEpoch (toDate "2006-01-02" "1969-12-31") }}
{{ base .path }} {{ dir .path }} {{ ext .path }} {{ clean "a//b/../c/." }} {{ isAbs .path }} {{ base "" }} {{ dir "" }} {{ clean "" }}
{{ osBase "/a/b/" }} {{ osDir "a" }} {{ osExt "x.y.z" }} {{ osClean "/../a" }} {{ osIsAbs "a" }} {{ base "/" }} {{ ext "noext" }}
{{ urlParse .url }} {{ (urlParse .url).host }} {{ (urlParse "x y") }} {{ urlParse "/just/path?x" }} {{ urlParse "%zz" }}
{{ urlJoin (dict "scheme" "https" "host" "h.com" "path" "/p" "query" "a=1" "fragment" "f" "userinfo" "u:p") }} {{ urlJoin (dict) }}
{{ urlJoin (dict "host" "h" "opaque" "o") }} {{ urlJoin (urlParse .url) }}
{{ camelcase "hello_world-foo bar" }} {{ snakecase "HelloWorld FooBAR" }} {{ kebabcase "HelloWorld_fooBar" }} {{ snakecase .words }}
{{ camelcase .words }} {{ kebabcase .words }} {{ camelcase "" }} {{ snakecase "ABC" }} {{ snakecase "aBCDe1F" }} {{ kebabcase "a1b2 C3" }}
{{ swapcase "Hello World" }} {{ untitle "Hello World" }} {{ initials "hello big world" }} {{ initials "" }} {{ title "ñandú über" }}
{{ wrap 5 "hello world this is go" }} {{ wrapWith 5 "\n" "hello world this" }} {{ wrapWith 3 "-" "abcdefgh" }} {{ wrap 0 "a b" }}
{{ abbrevboth 5 10 "1234 5678 9123" }} {{ abbrevboth 0 6 "abcdefghij" }} {{ abbrevboth 2 3 "abcdef" }}
{{ abbrev 3 "hello" }} {{ abbrev 4 "hello" }} {{ abbrev -1 "hello" }}
{{ nindent 2 "a\nb" }} {{ indent 0 "x" }} {{ indent -1 "a" }} {{ nindent -2 "a" }}
{{ substr 2 1 "abc" }}
{{ substr 1 -1 "abc" }} {{ substr -3 -1 "abc" }} {{ substr 0 10 "abc" }} {{ substr 3 3 "abc" }} {{ substr 4 5 "abc" }}
{{ trunc -10 "abc" }} {{ trunc 0 "abc" }} {{ repeat 0 "x" }} {{ repeat -1 "x" }}
{{ plural "one" "many" 1 }} {{ plural "one" "many" 2 }} {{ plural "one" "many" 0 }} {{ plural "one" "many" .i }}
{{ splitn "," 2 "a,b,c" }} {{ splitn "," 0 "a,b" }} {{ splitn "," -1 "a,b" }} {{ (splitn "," 2 "a,b,c")._1 }}
{{ toStrings (list 1 "a" nil 2.5) }} {{ toStrings "x" }} {{ toStrings nil }} {{ toStrings .m }} {{ typeOf (toStrings .l) }}
{{ trimall "$" "$$5$$" }} {{ trimAll "ab" "abcba" }} {{ trim "\t x \n" }} {{ nospace "a\u00a0b c" }}
{{ cat "a" nil 1 .l }} {{ quote nil "a" 2.5 .missing }} {{ squote "it's" }} {{ quote .l }}
{{ hello }} {{ fail "boom" }}
{{ join "," (until 3) }} {{ join "," .m }} {{ join 1 .l }} {{ join "," nil }}
{{ split "" "abc" }} {{ splitList "" "" }} {{ split "," "" }}
{{ tuple 1 "a" }} {{ list 1 (list 2) | toJson }}
{{ derivePassword 1 "long" "password" "user" "example.com" }}
{{ decryptAES "secretkey" (encryptAES "secretkey" "plaintext") }} {{ decryptAES "k" "bad" }} {{ decryptAES "k" "" }}
{{ len (randAlpha 7) }} {{ regexMatch "^[a-zA-Z]{7}$" (randAlpha 7) }} {{ regexMatch "^[a-zA-Z0-9]{5}$" (randAlphaNum 5) }}
{{ regexMatch "^[0-9]{4}$" (randNumeric 4) }} {{ regexMatch "^[ -~]{9}$" (randAscii 9) }} {{ len (randBytes 6) }}
{{ randAlpha 0 }}|{{ randNumeric -1 }} {{ $r := randInt 3 7 }}{{ and (ge $r 3) (lt $r 7) }} {{ randInt 5 5 }} {{ typeOf (randInt 1 2) }}
{{ uuidv4 | len }} {{ regexMatch "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$" uuidv4 }}
{{ regexMatch "^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(\\.\\d+)? \\+0000 UTC m=\\+\\d+\\.\\d{9}$" (toString now) }}
{{ regexMatch "^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(\\.\\d+)? \\+0000 UTC$" (toString now.UTC) }}
{{ regexMatch " m=\\+\\d{4,}\\.\\d{9}$" (now | dateModify "1h" | toString) }} {{ regexMatch "^\"\\d{4}-.*Z\"$" (toJson now) }}
{{ typeOf now }} {{ now | date "2006" | len }} {{ gt (now | unixEpoch | atoi) 1700000000 }} {{ now.Year | printf "%T" }}
{{ ago now | regexMatch "^0s$|^[0-9]+" }} {{ typeOf (ago 1700000000) }}
{{ shuffle "aaa" }} {{ len (shuffle "hello") }} {{ shuffle "" }} {{ sortAlpha (splitList "" (shuffle "cba")) }}
{{ hasPrefix "$2a$10$" (bcrypt "x") }}
{{ hasPrefix "user:$2a$10$" (htpasswd "user" "pw") }}
{{ htpasswd "a:b" "pw" }}
{{ $ca := genCA "ca" 30 }}{{ hasPrefix "-----BEGIN CERTIFICATE" $ca.Cert }} {{ hasPrefix "-----BEGIN RSA PRIVATE KEY" $ca.Key }}
{{ $c := genSelfSignedCert "x.com" (list "10.0.0.1") (list "x.com") 10 }}{{ hasPrefix "-----BEGIN CERTIFICATE" $c.Cert }}
{{ $ca := genCA "ca" 30 }}{{ $c := genSignedCert "x.com" nil nil 10 $ca }}{{ hasPrefix "-----BEGIN CERTIFICATE" $c.Cert }}
{{ hasPrefix "-----BEGIN EC PRIVATE KEY" (genPrivateKey "ecdsa") }} {{ genPrivateKey "x" }}
{{ hasPrefix "-----BEGIN PRIVATE KEY" (genPrivateKey "ed25519") }}
{{ $ca := genCA "ca" 30 }}{{ $c := buildCustomCert (b64enc $ca.Cert) (b64enc $ca.Key) }}{{ eq $c.Cert $ca.Cert }}
{{ buildCustomCert "x" "y" }}
{{ getHostByName "localhost" }}
"""

# Statements, printing and errors of the core language.
LANGUAGE = r"""
{{ define "" }}replaced{{ end }}root
{{ define "t" }}replaced{{ end }}root
{{ define "x" }}{{ . }}{{ end }}{{ template "x" 1 }}{{ template "x" .l }}
{{ block "b" .s }}[{{ . }}]{{ end }}{{ define "b" }}<{{ . }}>{{ end }}
{{ html .missing }} {{ js .missing }} {{ urlquery .missing }} {{ html nil }} {{ print .missing }} {{ html .n }}
{{ html "a" .missing }} {{ js "<\u2028>" }} {{ js "é\u0000" }} {{ urlquery "é &" }} {{ js 1 2 }}
{{ printf "%+v" 5 }} {{ printf "%#v" .m }} {{ printf "%#v" .l }} {{ printf "%#v" "x" }} {{ printf "%#v" 2.5 }} {{ printf "%#v" nil }}
{{ printf "%*d" 5 3 }} {{ printf "%-*d|" 4 7 }} {{ printf "%.*f" 2 3.14159 }} {{ printf "%05s" "ab" }} {{ printf "%+q" "é" }}
{{ printf "%#x" "hi" }} {{ printf "%X" 2.5 }} {{ printf "%x" 1.0 }} {{ printf "%v" (list nil 1) }} {{ printf "%d" (list nil) }}
{{ printf "%s" (list nil "a") }} {{ printf "%v" .mixed }} {{ printf "%q" 65 }} {{ printf "%c" 0x1F600 }} {{ printf "%#o" 8 }}
{{ printf "%08.3e" 1234.5 }} {{ printf "%+.2e" -0.0 }} {{ printf "% d" 5 }} {{ printf "% x" "abc" }} {{ printf "%#q" "a`b" }}
{{ printf "%6.2v" 3.14159 }} {{ printf "%.0f" 2.5 }} {{ printf "%.0f" 3.5 }} {{ printf "%g" 1e-7 }} {{ printf "%G" 1e-7 }}
{{ printf "%e" 0.0 }} {{ printf "%.3g" 100000.0 }} {{ printf "%b" 2.5 }} {{ printf "%t" .missing }} {{ printf "%v" .m.zz }}
{{ printf "%[3]d %[1]d" 1 2 3 }} {{ printf "%[5]d" 1 }} {{ printf "%[0]d" 1 }} {{ printf "%!" }} {{ printf "%-08d|" 5 }}
{{ printf "%10.4s|" "abcdefgh" }} {{ printf "%x" -1 }} {{ printf "%U" -1 }} {{ printf "%c" -1 }} {{ printf "%08b" 5 }}
{{ printf "%v %v" (semver "1.2.3") (toDate "2006" "2020") }} {{ printf "%s" (semver "1.2.3") }} {{ printf "%d" (semver "1.2.3") }}
{{ printf "%T" (semver "1.2.3") }} {{ printf "%T" (until 2) }} {{ printf "%T" .missing }} {{ printf "%T" (toDate "2006" "2020") }}
{{ printf "%v" (dict "b" nil "a" (list)) }} {{ printf "%x" .l }} {{ printf "%.1f" .l }} {{ printf "%5v|" .sl }}
{{ print 1 2.5 "a" nil true }} {{ println }} {{ print (list) (dict) }} {{ print .n .missing }}
{{ .i }} {{ .f }} {{ .big }} {{ .neg }} {{ .mixed }} {{ .nested }}
{{ index .mixed 6 "k" }} {{ index .m "a" }} {{ index .l 1.0 }} {{ index .l .i }} {{ index .l (len "a") }} {{ index .l nil }}
{{ index "abc" 5 }} {{ index .m nil }} {{ index (splitList "," "a,b") 1 }} {{ index (split "," "a,b") "_0" }} {{ index (until 3) 2 }}
{{ len .missing }} {{ len nil }} {{ len (until 4) }} {{ len (split "," "a") }} {{ len .mixed }}
{{ eq .i 5 }} {{ eq .i .big }} {{ eq (add 1 1) 2 }} {{ eq (len .s) 3 }} {{ eq .f 2.5 }} {{ eq .n nil }} {{ eq nil nil }}
{{ eq .missing .missing }} {{ ne .missing 1 }} {{ eq "a" .missing }} {{ lt .i 10 }} {{ lt .neg .i }} {{ lt .big 0 }}
{{ eq .l .l }} {{ eq .m 1 }} {{ eq (semver "1.0.0") 1 }} {{ eq true 1 }} {{ lt 1.5 2 }} {{ le "a" "a" }} {{ gt .f 2 }}
{{ eq 18446744073709551615 1 }} {{ eq -1 18446744073709551615 }}
{{ and }} {{ or }}
{{ if and .s (eq .i 5) }}yes{{ end }} {{ if not .el }}empty{{ end }} {{ if .nested.a.b }}deep{{ end }}
{{ range $i, $c := .mixed }}{{ $i }}:{{ $c }};{{ end }}
{{ range $k, $v := .nested }}{{ $k }}={{ $v }};{{ end }}
{{ range (until 3) }}{{ . }}{{ end }} {{ range $i, $e := splitList "," .csv }}{{ $i }}{{ $e }}{{ end }}
{{ range (split "," "a,b") }}{{ . }}{{ end }} {{ range $k, $v := (split "," "x,y") }}{{ $k }}{{ $v }}{{ end }}
{{ range .s }}{{ end }}
{{ range $i, $v := .i }}{{ end }}
{{ with $x := .missing }}{{ $x }}{{ else }}none{{ end }} {{ with .n }}x{{ else }}nil{{ end }}
{{ .s.x }}
{{ .n.x }}
{{ (semver "1.2.3").Nope }}
{{ (semver "1.2.3").Major.x }}
{{ (toDate "2006" "2020").Year 1 }}
{{ .m.a.b }}
{{ $ := 1 }}
{{ $x := 1 }}{{ $x := 2 }}{{ $x }}
{{ template "a" }}{{ define "a" }}{{ template "a" }}{{ end }}
{{ 1 }}{{ "a" }}{{ `b` }}{{ 'c' }}{{ true }}{{ 2.5 }}{{ 0x1p-2 }}{{ 1i }}
{{ 'ab' }}
{{ "\z" }}
{{ .Method }}
{{ call .missing }}
{{ call .s }}
{{ nil | print }}
{{ print | print }}
{{ .s | printf "%s-%s" "x" | upper | repeat 2 | len }}
{{ .l | len | add1 | printf "%03d" }}
{{ "x" | print 1 }}
{{ else }}
{{ end }}
{{ range }}{{ end }}
{{ if 1 }}{{ else if }}{{ end }}
{{ with 1 }}{{ break }}{{ end }}
{{ range .l }}{{ continue }}x{{ end }}
{{ $x = 1 }}
{{ define "a" }}{{ end }}{{ define "a" }}{{ end }}x
{{ define "a" }}a{{ end }}{{ define "a" }} {{ end }}{{ template "a" }}
{{ template "a" 1 2 }}
{{ block "x" }}{{ end }}
"""
RANDOM_COUNT = 800


def action_cases(text: str) -> list[str]:
    """A line of actions, and each of its actions alone when they do not share variables."""
    parts = re.findall(r"\{\{.*?\}\}", text)
    if (
        ":=" in text
        or "define" in text
        or "range" in text
        or "with" in text
        or "if" in text
        or len(parts) < 2
    ):
        return [text]
    return [text, *parts]


class Grammar:
    """Random templates: expressions over the data, calls with arguments of their Go types, pipelines and
    statements (if, with, range, variables)."""

    ATOMS = (
        *(
            [
                ".s",
                ".i",
                ".f",
                ".t",
                ".z",
                ".e",
                ".n",
                ".l",
                ".sl",
                ".el",
                ".m",
                ".em",
                ".missing",
                ".nested",
                ".nested.a",
                ".nested.list",
                ".mixed",
                ".neg",
            ]
        ),
        *(
            [
                ".words",
                ".csv",
                '"abc"',
                '""',
                '"a,b"',
                '"x-y"',
                "0",
                "1",
                "2",
                "3",
                "-1",
                "2.5",
                "0.5",
                "true",
                "false",
                "nil",
                "$",
                ".",
                "$x",
            ]
        ),
    )

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        table = signatures()
        self.functions = {
            name: table[name] for name in sorted(table) if name not in NON_DETERMINISTIC and name not in SLOW
        }
        self.functions.update(BUILTIN_SIGNATURES)
        self.names = sorted(self.functions)

    def argument(self, go_type: str, depth: int) -> str:
        roll = self.rng.random()
        if depth < 2 and roll < 0.3:
            return self.call(depth + 1)
        if roll < 0.75 and go_type in POOLS:
            return self.rng.choice(POOLS[go_type])
        return self.rng.choice(self.ATOMS)

    def call(self, depth: int = 0, piped: bool = False) -> str:
        name = self.rng.choice(self.names)
        params, variadic = self.functions[name]
        types = params + [variadic] * self.rng.randint(0, 2) if variadic else list(params)
        if piped and types:
            types = types[:-1]
        args = " ".join(self.argument(go_type, depth) for go_type in types)
        text = f"{name} {args}".strip()
        return text if depth == 0 else f"({text})"

    def pipeline(self) -> str:
        roll = self.rng.random()
        if roll < 0.2:
            return self.rng.choice(self.ATOMS)
        if roll < 0.7:
            return self.call()
        return f"{self.argument('interface {}', 1)} | {self.call(piped=True)}"

    def statement(self, depth: int = 0) -> str:
        if depth > 1 or self.rng.random() < 0.6:
            return "{{ " + self.pipeline() + " }}"
        body = "".join(self.statement(depth + 1) for _ in range(self.rng.randint(1, 2)))
        other = "".join(self.statement(depth + 1) for _ in range(self.rng.randint(0, 1)))
        keyword = self.rng.choice(("if", "with", "range"))
        else_part = "{{ else }}" + other if other else ""
        return f"{{{{ {keyword} {self.pipeline()} }}}}{body}{else_part}{{{{ end }}}}"

    def template(self) -> str:
        return (
            "{{ $x := "
            + self.pipeline()
            + " }}"
            + "".join(self.statement() for _ in range(self.rng.randint(1, 3)))
        )


BUILTIN_SIGNATURES: dict[str, tuple[list[str], str | None]] = {
    "and": (["interface {}"], "interface {}"),
    "or": (["interface {}"], "interface {}"),
    "not": (["interface {}"], None),
    "len": (["interface {}"], None),
    "index": (["interface {}"], "interface {}"),
    "eq": (["interface {}"], "interface {}"),
    "ne": (["interface {}", "interface {}"], None),
    "lt": (["interface {}", "interface {}"], None),
    "le": (["interface {}", "interface {}"], None),
    "gt": (["interface {}", "interface {}"], None),
    "ge": (["interface {}", "interface {}"], None),
    "html": ([], "interface {}"),
    "js": ([], "interface {}"),
    "urlquery": ([], "interface {}"),
    "print": ([], "interface {}"),
    "println": ([], "interface {}"),
    "printf": (["string"], "interface {}"),
}


def cases() -> list[dict[str, Any]]:
    """Every generated case, in a stable order."""
    texts: list[str] = []
    for block in (FEATURES, LANGUAGE):
        for line in block.strip().splitlines():
            texts.extend(action_cases(line))
    texts.extend(signature_calls(random.Random(13)))
    grammar = Grammar(2024)
    texts.extend(grammar.template() for _ in range(RANDOM_COUNT))
    unique = list(dict.fromkeys(texts))
    return [case(text) for text in unique]
