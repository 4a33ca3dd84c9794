#!/usr/bin/python3
"""tests/fuzz/make_seeds.py: (re)write the seed corpus of every fuzz target
under tests/fuzz/corpus/<target>/: valid examples (PROTOCOL.md's hex
examples, the tests' inputs, conf/*.example) and the reproducers of known
findings.  The files are committed; run this only to change them:
    /usr/bin/python3 tests/fuzz/make_seeds.py
Needs python3-msgpack (scripts/setup installs it)."""
import os
import re
import sys

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def hexblock(h):
    return bytes.fromhex(re.sub(r"\s+", "", h))


# --- wire: the hex examples of PROTOCOL.md, byte for byte -----------------
HELLO = hexblock("""96 01 01 a5 30 33 36 34 36 a7 63 6f 6d 6d 75 6e
65 a5 58 c3 a3 20 41 91 93 a5 30 33 36 34 36 cd 07 e9 04""")
WELCOME = hexblock("""95 01 02 a3 31 31 36 91 92 a5 30 33 36 34 36 cd
07 e9 91 93 a5 30 33 36 34 36 cd 07 e9 02""")
REPORTS = hexblock("""95 01 03 09 91 9a a5 30 33 36 34 36 a7 63 6f 6d
6d 75 6e 65 a5 58 c3 a3 20 41 cd 07 e9 04 ce 68
4e e1 80 92 a3 31 31 36 a5 30 33 36 34 36 dc 00
3f 78 61 00 00 00 00 00 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
00 61 00 00 00 00 00 01 ce 69 2c da 80 00 00 00
00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
00 00 00 00 a8 78 61 2d 61 64 6d 69 6e a0 90""")
assert len(REPORTS) == 127
# the same with 9 fields (a 0.3.0 development build: no successor), and as
# a parent re-issues it for a retired commune merged into 03647 (8.8)
REPORTS_9 = REPORTS[:5] + b"\x99" + REPORTS[6:-2] + b"\x90"
REPORTS_SUCC = REPORTS[:-2] + b"\xa5" + b"03647" + b"\x90"
# the same batch as release 0.1.0 sent it: 8 fields, 32 counters
REPORTS_010 = hexblock("""95 01 03 09 91 98 a5 30 33 36 34 36 a7 63 6f 6d
6d 75 6e 65 a5 58 c3 a3 20 41 cd 07 e9 04 ce 68
4e e1 80 92 a3 31 31 36 a5 30 33 36 34 36 dc 00
20 78 61 00 00 00 00 00 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
00 90""")
# this release's WELCOME: field 6, the wire revision (2)
WELCOME_030 = hexblock("""96 01 02 a3 31 31 36 91 92 a5 30 33 36 34 36 cd
07 e9 91 93 a5 30 33 36 34 36 cd 07 e9 02 02""")
ACK = hexblock("94 01 04 09 00")
for n, b in [("protocol-hello", HELLO), ("protocol-welcome", WELCOME),
             ("protocol-welcome-0.3.0", WELCOME_030),
             # revision 2: year 2020 and level agency; a future field 7
             ("hello-agency-2020", msgpack.packb(
                 [1, 1, "1405", "agency", "S\u1edf GD", [["1405", 2020, 3],
                                                       ["1405", 2025, 4]]])),
             ("welcome-2020-field7", msgpack.packb(
                 [1, 2, "14", [["1405", 2020]], [["1405", 2020, 3]], 2,
                  "future"])),
             ("protocol-reports", REPORTS),
             ("protocol-reports-0.1.0", REPORTS_010),
             ("protocol-reports-9-fields", REPORTS_9),
             ("protocol-reports-successor", REPORTS_SUCC),
             ("protocol-ack", ACK),
             ("protocol-ping", b"\x92\x01\x05"),
             ("protocol-pong", b"\x92\x01\x06"),
             ("protocol-resync", b"\x92\x01\x07"),
             ("version-1-as-uint16", b"\x92\xcd\x00\x01\x05"),
             ("version-2", b"\x92\x02\x05")]:
    put("fuzz_wire", n, b)
    if n.startswith("protocol-reports"):
        put("fuzz_reports", n, b)

NC = 63  # counters of release 0.3.0 (33 in 0.2.0, 32 in 0.1.0)
RETIRED = 62  # counter retired (PROTOCOL.md 5.6, 8.8)


def report(origin, year, version, path, counters=None, level="commune",
           name="X\u00e3 A", updated=1750000000, ncounters=NC,
           filed_by="", successor="", extra=()):
    """A report; filed_by None: the 8 fields of releases 0.1.0 and 0.2.0,
    else field 9 (release 0.3.0); successor None: no field 10 (9 fields),
    else field 10; then any extra (future) fields."""
    c = list(counters or [])
    c += [0] * (ncounters - len(c))
    r = [origin, level, name, year, version, updated, path, c]
    if filed_by is not None:
        r.append(filed_by)
        if successor is not None:
            r.append(successor)
    return r + list(extra)


def retired(counters, last):
    """counters with counter retired = last (all NC of them)."""
    c = list(counters) + [0] * (NC - len(counters))
    c[RETIRED] = last
    return c


def reports(seq, reps, removed=()):
    return msgpack.packb([1, 3, seq, reps, [list(k) for k in removed]])


B40 = 1 << 40
# seq bits: 0 = sender 1402 (else 1401), 1 = also relayed by the other
# child, 2 = commit (fuzz_reports.c)
seeds = {
    # district 1401's own report and one relayed from a commune below it
    "own-and-relayed": reports(0, [
        report("1401", 2025, 3, ["1401"], [120, 97], level="district",
               name="Huy\u1ec7n A"),
        report("140101", 2025, 7, ["1401", "140101"], [50, 40, 1])]),
    # the same origin reported by both children: the higher version wins,
    # then more counters, then the lower id
    "both-children": reports(2, [
        report("140101", 2024, 5, ["1401", "140101"], [10, 9]),
        report("140102", 2024, 5, ["1401", "140102"], [3, 3])]),
    "both-children-commit": reports(6, [
        report("140101", 2023, 9, ["1401", "140101"], [1, 2, 3]),
        report("140101", 2023, 8, ["1401", "140101"], [4, 5, 6])],
        removed=[("140102", 2023, 1)]),
    # older, equal and fuller copies of one key in one batch
    "versions": reports(1, [
        report("140201", 2026, 4, ["1402", "140201"], [7]),
        report("140201", 2026, 3, ["1402", "140201"], [8]),
        report("140201", 2026, 4, ["1402", "140201"], [9], ncounters=32),
        report("140201", 2026, 5, ["1402", "140201"], [10])]),
    # wire revision 2: an agency's imported 2020 and its 2025, relayed
    "agency-2020": reports(0, [
        report("1401", 2020, 3, ["1401"], [0] * 42 + [1], level="agency",
               name="S\u1edf GD"),
        report("140101", 2020, 4, ["1401", "140101"], [5, 4],
               level="agency")], removed=[("140102", 2020, 1)]),
    # a report then its removal; a removal of nothing
    "removed": reports(1, [
        report("140202", 2027, 2, ["1402", "140202"], [5, 5])],
        removed=[("140202", 2027, 2), ("999", 2030, 1)]),
    # every refusal of PROTOCOL.md 8.3 rule 1
    "refused": reports(0, [
        report("140201", 2025, 1, ["1402", "140201"]),          # not sender
        report("14", 2025, 1, ["1401", "14"]),                  # loop
        report("1402", 2025, 1, ["1401", "1402"]),              # other child
        report("8", 2025, 1, ["1401", "2", "3", "4", "5", "6", "7", "8"]),
        report("140101", 2025, 1, ["1401", "140101"], [B40 + 1])]),
    # known finding: counters of 2^40, exactly at the bound (accepted), from
    # two origins and both children, so sums pass 2^41
    "counters-2p40-at-bound": reports(6, [
        report("140101", 2030, 1, ["1401", "140101"], [B40] * NC),
        report("140103", 2030, 1, ["1401", "140103"], [B40] * NC),
        report("1401", 2030, 1, ["1401"], [B40] * NC, level="district")]),
    # a deep path, names of 128 bytes of Vietnamese
    "deep-path": reports(4, [
        report("7", 2021, 2**64 - 1, ["1401", "2", "3", "4", "5", "6", "7"],
               list(range(NC)), name="\u1ec7" * 42 + "ab")]),
    # filing (release 0.3.0): filed by a label of 63 bytes; the same key
    # from a 0.2.0 relay (33 counters, 8 fields) and a 10-field report
    "filed": reports(5, [
        report("140101", 2025, 9, ["1401", "140101"], [40, 30] + [0] * 36
               + [1, 1764547200, 0, 2], filed_by="\u1ec7" * 21),
        report("140101", 2025, 9, ["1401", "140101"], [40, 30],
               ncounters=33, filed_by=None),
        report("140102", 2025, 4, ["1401", "140102"], [5, 5],
               filed_by="xa-admin", extra=[{"future": 1}])]),
    # retirement (8.8): copies re-issued below for retired communes, one
    # merged into 140102 (a 16-byte successor too), one dissolved (""),
    # the same key from a 9-field sender, and an 11th (future) field
    "retired-successor": reports(5, [
        report("140101", 2023, 12, ["1401", "140101"],
               retired([40, 30], 2023), successor="140102"),
        report("140101", 2024, 12, ["1401", "140101"],
               retired([41, 31], 2024), successor="0123456789abcdef"),
        report("140103", 2024, 12, ["1401", "140103"],
               retired([7, 7], 2024), successor=""),
        report("140103", 2024, 12, ["1401", "140103"],
               retired([7, 7], 2024), successor=None),
        report("140104", 2022, 3, ["1401", "140104"],
               retired([2, 1], 2022), successor="140102",
               extra=[[1, "x"]])]),
}
for n, b in seeds.items():
    put("fuzz_reports", n, b)
put("fuzz_wire", "reports-2p40-at-bound", seeds["counters-2p40-at-bound"])
put("fuzz_wire", "reports-deep-path", seeds["deep-path"])
put("fuzz_wire", "reports-filed", seeds["filed"])
put("fuzz_wire", "reports-retired-successor", seeds["retired-successor"])
put("fuzz_wire", "hello-inventory", msgpack.packb(
    [1, 1, "1401", "district", "Huy\u1ec7n A",
     [["1401", 2025, 3], ["140101", 2030, 2**63]]]))

# --- JSON: assessments and population -------------------------------------
A = ('{"year": 2025, "person_id": "079203001234", "name": "Nguy\u1ec5n '
     'V\u0103n A", "birth_year": 1980, "group": "farmer", "population": '
     '"adult", "scores": [8, 9, 7, 8, 9, 10, 8, 7, 9, 8], "digital": '
     '"skilled"}')
put("fuzz_json", "assessment", A)
put("fuzz_json", "assessment-staff",
    '{"year":2030,"person_id":"S-1","group":"official","population":'
    '"staff","scores":[5,5,5,5,5,5,5,5,5,5],"digital":"proficient",'
    '"name":null,"birth_year":null}')
put("fuzz_json", "array", "[" + A + ', {"year": 2020}, 7, {"scores": []}]')
put("fuzz_json", "population",
    '{"adults": 400, "staff": 20, "families_total": 100, '
    '"families_recognized": 70, "clans_total": 3, "clans_recognized": 2, '
    '"communities_total": 5, "communities_recognized": 5, "units_total": 4,'
    ' "units_recognized": 1, "members_total": 9, "members_trained": 9}')
put("fuzz_json", "population-above-total",
    '{"families_total": 1, "families_recognized": 2}')
put("fuzz_json", "bad-scores",
    '{"year":2025,"person_id":"P","group":"farmer","population":"adult",'
    '"scores":[1,2,3,4,5,6,7,8,9,11],"digital":"none"}')
put("fuzz_json", "duplicate-key", '{"year": 2025, "year": 2026}')
# known findings: an unknown key of 62 ASCII characters and "a-tilde" (cut
# mid-character in the error's 64-byte field), and an invalid escape
# before a non-ASCII character (jansson's error text ends mid-character)
put("fuzz_json", "unknown-key-62-ascii-atilde",
    '{"' + "k" * 62 + '\u00e3": 1}')
put("fuzz_json", "escape-before-utf8", '"\\\u1ec5"')
put("fuzz_json", "escape-before-utf8-in-object", '{"name": "\\\u1ec5"}')

# --- CSV ------------------------------------------------------------------
HDR = ("year,person_id,name,birth_year,group,population,"
       "s1,s2,s3,s4,s5,s6,s7,s8,s9,s10,digital")
put("fuzz_csv", "import", HDR + "\n"
    "2025,079203001234,Nguy\u1ec5n V\u0103n A,1980,farmer,adult,"
    "8,9,7,8,9,10,8,7,9,8,skilled\n"
    "2025,P2,,,worker,adult,5,5,5,5,5,5,5,5,5,5,none\n")
put("fuzz_csv", "quotes-and-errors", "\ufeff" + HDR + "\r\n"
    '2026,"P,1","Tran ""B"" Van",,manager,staff,1,2,3,4,5,6,7,8,9,10,none'
    '\r\n2026,P3,Tran 5" Van,,farmer,adult,1,1,1,1,1,1,1,1,1,1,none\r\n'
    '2026,"P4","multi\nline",1990,business,adult,9,9,9,9,9,9,9,9,9,9,'
    'proficient\r\n\r\n2026,P5,"open\n2026,P6\n')
put("fuzz_csv", "reordered-columns",
    "digital,s10,s9,s8,s7,s6,s5,s4,s3,s2,s1,population,group,person_id,"
    "year\nnone,1,2,3,4,5,6,7,8,9,10,staff,official,X,2021")
put("fuzz_csv", "plain", "year,person_id,s1\n2025,P1,8\n2026,P2,9\n")
# known findings: a header cell that is not UTF-8 (bytes eb 39), a year cell
# of 31 ASCII characters and "a-tilde" (cut mid-character at 32 bytes)
put("fuzz_csv", "header-bytes-eb-39", b"year,\xeb9,person_id\n")
put("fuzz_csv", "year-31-ascii-atilde", HDR + "\n" + "1" * 31 + "\u00e3"
    ",P,,,farmer,adult,1,1,1,1,1,1,1,1,1,1,none\n")

# --- conf -----------------------------------------------------------------
SEP = "\n==> children <==\n"
for ex in sorted(os.listdir(os.path.join(ROOT, "conf"))):
    if not ex.endswith(".conf.example"):
        continue
    with open(os.path.join(ROOT, "conf", ex)) as f:
        text = f.read()
    text = re.sub(r"(?m)^children = .*$", "children = @CHILDREN@", text)
    name = ex[:-len(".conf.example")]
    if "children = @CHILDREN@" in text:
        with open(os.path.join(ROOT, "conf", "children.example")) as f:
            kids = f.read()
        # the example's lines, uncommented
        kids = re.sub(r"(?m)^#(\d+ \S{40} )", r"\1", kids)
        text = text.rstrip("\n") + SEP + kids
    put("fuzz_conf", "example-" + name, text)

KEY_A = "rq:rM>}U?@Lns47E1.kR.o@n.FcmmsL/@{H8]yf7"
KEY_B = "JTKVSB&&)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
BASE = ("[node]\nid = 116\nlevel = district\nname = Huy\u1ec7n Mai S\u01a1n\n"
        "data_dir = /var/lib/cdht\n[http]\nlisten = 127.0.0.1:8470\n"
        "tokens = /etc/cdht/tokens\n")
DOWN = ("[downlink]\nlisten = tcp://0.0.0.0:9470\n"
        "secret_key = /etc/cdht/node.secret\nchildren = @CHILDREN@\n")
put("fuzz_conf", "district", BASE + "[targets]\nfamilies = 75 80\n"
    "[uplink]\nparent = tcp://10.14.0.1:9470\nparent_key = " + KEY_A +
    "\nsecret_key = /etc/cdht/node.secret\nflush_ms = 20\n" + DOWN.rstrip()
    + SEP + "# children\n04108 " + KEY_B + " X\u00e3 Chi\u1ec1ng Sung\n")
put("fuzz_conf", "errors", "; every kind of error\n[node]\nid = 1.6\n"
    "level = city\nname = \x01\nmap_size_mb = 0\nbogus = 1\nid = 2\n"
    "[targets]\nfamilies = 75\nnothing = 1 2\n[uplink]\nparent = x\n"
    "line without equals\n")
# known findings: a [node] name holding the UTF-16 surrogate ed a0 80, and a
# children-file name of 143 bytes of Vietnamese text
put("fuzz_conf", "node-name-surrogate", BASE.encode().replace(
    "name = Huy\u1ec7n Mai S\u01a1n".encode(), b"name = A\xed\xa0\x80B"))
# known finding: an unknown key that is not UTF-8, quoted raw in the error
put("fuzz_conf", "unknown-key-not-utf8", BASE.encode() + b"p\xe1rent = x\n")
# known finding: a control character (a tab) in an unknown key, printed raw
# (conf.c shows a value's control characters as \xNN, not a key's)
put("fuzz_conf", "unknown-key-with-tab", BASE + "lis\tten = x\n")
VI143 = ("Chi\u1ec1ng " * 16).rstrip()
assert len(VI143.encode()) == 143
put("fuzz_conf", "children-name-143-bytes", BASE + DOWN.rstrip() + SEP +
    "04108 " + KEY_B + " " + VI143 + "\n")
# new findings: the children file is read in 1023-byte pieces (fgets), so
# a longer line is cut in two and its rest read as a line of its own: an
# error names a line the file lacks, or (indented, valid up to the cut) one
# line silently gives two children
put("fuzz_conf", "children-long-line-error-line", BASE + DOWN.rstrip() +
    SEP + "04108 " + KEY_B + " " + "A" * 1000 + "x 9 y\n")
LINE = "04108 " + KEY_B + " Sung"
put("fuzz_conf", "children-long-line-two-children", BASE + DOWN.rstrip() +
    SEP + " " * (1023 - len(LINE)) + LINE + "04109 " + KEY_A + " Hidden\n")
print("corpus written under", CORPUS)
