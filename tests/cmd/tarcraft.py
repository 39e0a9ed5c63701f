#!/usr/bin/env python3
"""Raw-block surgery on v1 bundles, for the tests (test-only).

A bundle's tar stream is read block by block (Python's tarfile only finds
where each member's header and data begin); a change rewrites exactly the
bytes under test and leaves every other byte as seal wrote it, so a test
knows which rule it exercises.  Headers this tool makes itself copy the
field encodings libarchive's pax-restricted writer uses (size and mtime
"%011o ", checksum "%06o\\0 ").

  tarcraft.py repack IN OUT OP [ARGS]    canonical-looking edits:
      modify PATH | add PATH | remove PATH | rename PATH NEW | replace PATH FILE
  tarcraft.py corpus IN OUTDIR           every hostile variant of IN, one
      file each (OUTDIR/NAME.tar.gz), and OUTDIR/INDEX: "NAME<TAB>class<TAB>what"
"""
import gzip
import io
import os
import struct
import sys
import tarfile
import zlib

BLOCK = 512


class Member:
    def __init__(self, name, hdr, data, isdir):
        self.name = name      # archive name (folders end in '/')
        self.hdr = hdr        # every header byte before the data (pax + ustar)
        self.data = data
        self.isdir = isdir


def pad(n):
    return (BLOCK - n % BLOCK) % BLOCK


def read_stream(path):
    with gzip.open(path, "rb") as g:
        raw = g.read()
    t = tarfile.open(fileobj=io.BytesIO(raw))
    ms = []
    for m in t.getmembers():
        hdr = raw[m.offset:m.offset_data]
        data = raw[m.offset_data:m.offset_data + m.size]
        name = m.name + ("/" if m.isdir() and not m.name.endswith("/") else "")
        ms.append(Member(name, hdr, data, m.isdir()))
    return raw, ms


def emit(ms, end=bytes(1024)):
    out = bytearray()
    for m in ms:
        out += m.hdr + m.data + bytes(pad(len(m.data)))
    out += end
    return bytes(out)


def gz(raw, level=6, xfl=0):
    """One gzip member with the canonical v1 header."""
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    body = c.compress(raw) + c.flush()
    head = bytes([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3])
    return head + body + struct.pack("<II", zlib.crc32(raw) & 0xffffffff, len(raw) & 0xffffffff)


def checksum(h):
    h = bytearray(h)
    h[148:156] = b" " * 8
    s = sum(h)
    h[148:156] = b"%06o\0 " % s
    return bytes(h)


def set_field(h, off, width, value):
    h = bytearray(h)
    h[off:off + width] = value.ljust(width, b"\0")[:width]
    return checksum(h)


def ustar(template, name, size=None, typeflag=None):
    """A header in libarchive's encodings, from a seal-written template."""
    h = bytearray(template[-BLOCK:])
    nb = name.encode()
    assert len(nb) <= 100, name
    h[0:100] = nb.ljust(100, b"\0")
    if size is not None:
        h[124:136] = b"%011o " % size
    if typeflag is not None:
        h[156:157] = typeflag
    return checksum(h)


def pax_record(key, value):
    body = (" %s=%s\n" % (key, value)).encode()
    n = len(body)
    while len(str(n).encode()) + len(body) != n:
        n = len(str(n).encode()) + len(body)
    return str(n).encode() + body


def ext_header(template, name, records, typeflag=b"x"):
    data = b"".join(records)
    return ustar(template, name[:100], len(data), typeflag) + data + bytes(pad(len(data)))


def find(ms, rel):
    top = ms[0].name
    for i, m in enumerate(ms):
        if m.name == top + rel:
            return i
    raise SystemExit("no member " + rel)


def first_file(ms):
    for i, m in enumerate(ms):
        if not m.isdir and len(m.hdr) == BLOCK:
            return i
    raise SystemExit("no short-named file")


def write(path, raw_or_gz, raw=True):
    with open(path, "wb") as f:
        f.write(gz(raw_or_gz) if raw else raw_or_gz)


def repack(src, dst, op, args):
    _, ms = read_stream(src)
    top = ms[0].name
    tpl = ms[first_file(ms)].hdr
    if op == "modify":
        m = ms[find(ms, args[0])]
        m.data = bytes([m.data[0] ^ 1]) + m.data[1:]
    elif op == "replace":
        m = ms[find(ms, args[0])]
        m.data = open(args[1], "rb").read()
        m.hdr = ustar(m.hdr, m.name, len(m.data))
    elif op == "remove":
        del ms[find(ms, args[0])]
    elif op == "rename":
        m = ms[find(ms, args[0])]
        m.name = top + args[1]
        m.hdr = ustar(m.hdr, m.name)
        ms.sort(key=lambda x: x.name.encode())
    elif op == "add":
        ms.append(Member(top + args[0], ustar(tpl, top + args[0], 5), b"extra", False))
        ms.sort(key=lambda x: x.name.encode())
    else:
        raise SystemExit("unknown op " + op)
    write(dst, emit(ms))


def hidden_stream(tpl, top):
    """A complete second tar stream: forged evidence and a key beside the bundle."""
    ms = [Member(top, ustar(tpl, top, 0, b"5"), b"", True)]
    ms.append(Member(top + "MANIFEST.json", ustar(tpl, top + "MANIFEST.json", 7), b"forged\n", False))
    ms.append(Member("signer.pub.pem", ustar(tpl, "signer.pub.pem", 10), b"attacker\n\n", False))
    ms.append(Member(top + "../signer.pub.pem", ustar(tpl, top + "../signer.pub.pem", 10), b"attacker\n\n", False))
    return emit(ms)


def corpus(src, outdir):
    raw, ms0 = read_stream(src)
    genuine = open(src, "rb").read()
    os.makedirs(outdir, exist_ok=True)
    index = []
    top = ms0[0].name
    fi = first_file(ms0)
    tpl = ms0[fi].hdr
    mtime_field = tpl[136:148]

    def fresh():
        _, ms = read_stream(src)
        return ms

    def add(name, cls, what, data, raw_stream=True):
        write(os.path.join(outdir, name + ".tar.gz"), data, raw_stream)
        index.append("%s\t%s\t%s" % (name, cls, what))

    # -- gzip container --------------------------------------------------
    add("gz-trailing-bytes", "gzip", "bytes after the gzip member", genuine + b"garbage\n", False)
    add("gz-trailing-zeros", "gzip", "zero bytes after the gzip member", genuine + bytes(512), False)
    add("gz-second-member", "gzip", "a second gzip member (a hidden tar stream)",
        genuine + gz(hidden_stream(tpl, top)), False)
    add("gz-empty-first-member", "gzip", "an empty gzip member before the genuine one", gz(b"") + genuine, False)
    add("gz-fname", "gzip", "gzip header with FNAME", genuine[:3] + b"\x08" + genuine[4:10] + b"x.tar\0" + genuine[10:], False)
    add("gz-mtime", "gzip", "gzip header MTIME set", genuine[:4] + b"\x01\0\0\0" + genuine[8:], False)
    add("gz-os", "gzip", "gzip header OS 255", genuine[:9] + b"\xff" + genuine[10:], False)
    add("gz-truncated", "gzip", "file cut 100 bytes short", genuine[:-100], False)
    add("gz-bad-crc", "gzip", "trailer CRC-32 changed", genuine[:-8] + bytes([genuine[-8] ^ 1]) + genuine[-7:], False)

    # -- end of the tar stream -------------------------------------------
    ms = fresh()
    add("end-data-after", "end", "a non-zero block after the end marker", emit(ms, bytes(1024) + b"x" * 512))
    add("end-lone-zero-block", "end", "one zero block as the end", emit(ms, bytes(512)))
    add("end-no-marker", "end", "no end marker", emit(ms, b""))
    add("end-record-padding", "end", "zeros to a 10240-byte record after the end", emit(ms, bytes(1024 + 10240 - (len(emit(ms)) % 10240))))
    add("end-garbage-in-record", "end", "garbage inside the last record", emit(ms, bytes(1024) + b"\0" * 100 + b"evil" + bytes(408)))
    add("end-hidden-stream", "end", "a second tar stream after the end marker", emit(ms, bytes(1024) + hidden_stream(tpl, top)))

    # -- members: set and structure --------------------------------------
    ms = fresh()
    ms.insert(1, Member(top + "AAA/", ustar(ms[0].hdr, top + "AAA/", 0), b"", True))
    add("dir-extra-empty", "members", "an extra empty folder member", emit(ms))
    ms = fresh()
    i = next(i for i, m in enumerate(ms) if m.isdir and i > 0)
    del ms[i]
    add("dir-missing", "members", "a folder member removed", emit(ms))
    ms = fresh()
    i = next(i for i, m in enumerate(ms) if m.isdir and i > 0 and len(m.hdr) == BLOCK)
    ms[i].hdr = set_field(ms[i].hdr, 0, 100, ms[i].name[:-1].encode())
    add("dir-no-slash", "encoding", "a folder written without its trailing slash", emit(ms))
    ms = fresh()
    new = top.rstrip("/") + "-renamed/"
    kept = []
    for m in ms:
        if len(m.hdr) == BLOCK and len(new + m.name[len(top):]) <= 100:
            m.hdr = ustar(m.hdr, new + m.name[len(top):])
            kept.append(m)
    add("top-renamed", "members", "the top folder renamed (every short-named member)", emit(kept))
    ms = fresh()
    ms.append(Member("signer.pub.pem", ustar(tpl, "signer.pub.pem", 10), b"attacker\n\n", False))
    add("outside-top", "members", "signer.pub.pem outside the top folder", emit(ms))
    ms = fresh()
    ms.insert(fi + 1, Member(top + "../signer.pub.pem", ustar(tpl, top + "../signer.pub.pem", 10), b"attacker\n\n", False))
    add("dotdot", "members", "TOP/../signer.pub.pem", emit(ms))
    ms = fresh()
    m = ms[fi]
    ms.insert(fi + 1, Member(m.name, m.hdr, bytes([m.data[0] ^ 1]) + m.data[1:], False))
    add("duplicate-later-wins", "members", "the same member twice, the second changed", emit(ms))
    ms = fresh()
    m = ms[fi]
    dot = top + "./" + m.name[len(top):]
    ms.insert(fi + 1, Member(dot, ustar(tpl, dot, len(m.data)), bytes([m.data[0] ^ 1]) + m.data[1:], False))
    add("duplicate-dot-encoding", "members", "the same member again as TOP/./NAME", emit(ms))
    ms = fresh()
    m = ms[fi]
    ms.insert(fi + 1, Member(m.name + "x", ustar(tpl, m.name + "x", 0, b"1") , b"", False))
    ms[fi + 1].hdr = set_field(ms[fi + 1].hdr, 157, 100, m.name.encode())
    add("hardlink", "types", "a hard link member", emit(ms))
    ms = fresh()
    ms.insert(fi + 1, Member(m.name + "x", set_field(ustar(tpl, m.name + "x", 0, b"2"), 157, 100, b"/etc/passwd"), b"", False))
    add("symlink", "types", "a symbolic link member", emit(ms))

    # -- header fields ---------------------------------------------------
    def each(fn):
        ms = fresh()
        for m in ms:
            m.hdr = m.hdr[:-BLOCK] + fn(m.hdr[-BLOCK:])
        return emit(ms)

    def one(fn):
        ms = fresh()
        ms[fi].hdr = fn(ms[fi].hdr)
        return emit(ms)

    later = b"%011o " % (int(mtime_field[:11], 8) + 3600)
    add("mtime-all", "fields", "every member's mtime changed alike", each(lambda h: set_field(h, 136, 12, later)))
    add("mtime-one", "fields", "one member's mtime changed", one(lambda h: set_field(h, 136, 12, later)))
    add("mode-0644", "fields", "mode 0644", one(lambda h: set_field(h, 100, 8, b"000644 \0")))
    add("uid-1000", "fields", "uid 1000", one(lambda h: set_field(h, 108, 8, b"001750 \0")))
    add("uname-evil", "fields", "uname evil", one(lambda h: set_field(h, 265, 32, b"evil")))
    add("size-spaces", "encoding", "size field with leading spaces", one(lambda h: set_field(h, 124, 12, (b"%o " % int(h[124:135], 8)).rjust(12, b" "))))
    add("size-base256", "encoding", "size field in base-256", one(lambda h: set_field(h, 124, 12, b"\x80" + int(h[124:135], 8).to_bytes(11, "big"))))
    add("chksum-format", "encoding", "checksum NUL-terminated differently", one(lambda h: (lambda b: b[:148] + (b"%06o \0" % int(b[148:154], 8)) + b[156:])(bytearray(checksum(h)))))
    add("gnu-magic", "encoding", "GNU magic 'ustar  \\0'", one(lambda h: set_field(h, 257, 8, b"ustar  \0")))
    add("header-tail-bytes", "encoding", "non-zero bytes in the unused header tail", one(lambda h: checksum(h[:500] + b"hidden evidence" [:12] + h[512:])))
    ms = fresh()
    ms[fi].data = ms[fi].data
    raw_pad = emit(ms)
    off = len(b"".join(x.hdr + x.data + bytes(pad(len(x.data))) for x in ms[:fi])) + len(ms[fi].hdr) + len(ms[fi].data)
    if pad(len(ms[fi].data)):
        add("data-padding", "end", "non-zero bytes in a member's data padding", raw_pad[:off] + b"Z" + raw_pad[off + 1:])
    for tf, what in ((b"7", "contiguous file"), (b"N", "old GNU long names"), (b"S", "GNU sparse"),
                     (b"I", "star inode metadata"), (b"K", "GNU long link"), (b"\0", "old regular file (NUL)"),
                     (b"V", "GNU volume header"), (b"M", "GNU multi-volume")):
        add("type-%s" % (tf.decode() if tf != b"\0" else "nul"), "types", "typeflag %r (%s)" % (tf, what),
            one(lambda h, tf=tf: set_field(h, 156, 1, tf)))

    # -- extended headers ------------------------------------------------
    def prepend(hdr_bytes):
        ms = fresh()
        ms[0].hdr = hdr_bytes + ms[0].hdr
        return emit(ms)

    add("pax-global-empty", "pax", "a pax global header with a comment", prepend(ext_header(tpl, "pax_global_header", [pax_record("comment", "hi")], b"g")))
    add("pax-global-path", "pax", "a pax global header with path=", prepend(ext_header(tpl, "pax_global_header", [pax_record("path", top + "SHA256SUMS")], b"g")))
    add("pax-global-path-out", "pax", "a pax global header path= outside the top folder", prepend(ext_header(tpl, "pax_global_header", [pax_record("path", "../../signer.pub.pem")], b"g")))
    for key, val in (("comment", "x"), ("atime", "1"), ("SCHILY.xattr.user.evil", "1"), ("uname", "root"),
                     ("mtime", "1.5"), ("size", "3"), ("path", "%sSHA256SUMS" % top), ("linkpath", "/etc/passwd"),
                     ("GNU.sparse.size", "100"), ("hdrcharset", "BINARY")):
        ms = fresh()
        ms[fi].hdr = ext_header(tpl, "PaxHeader/x", [pax_record(key, val)]) + ms[fi].hdr
        add("pax-key-%s" % key.replace(".", "-").lower(), "pax", "an extra pax record %s=%s" % (key, val), emit(ms))
    ms = fresh()
    m = ms[fi]
    ms[fi].hdr = ext_header(tpl, "PaxHeader/x", [pax_record("path", m.name)]) + m.hdr
    add("pax-redundant-path", "encoding", "the same name again in a pax path record", emit(ms))
    ms = fresh()
    m = ms[fi]
    ms[fi].hdr = ext_header(tpl, "././@LongLink", [m.name.encode() + b"\0"], b"L") + m.hdr
    add("gnu-longlink", "encoding", "the name again in a GNU ././@LongLink", emit(ms))
    longi = next((i for i, x in enumerate(ms0) if len(x.hdr) > BLOCK), None)
    if longi is not None:
        ms = fresh()
        m = ms[longi]
        ms[longi].hdr = m.hdr[:-BLOCK] + ext_header(tpl, "././@LongLink", [m.name.encode() + b"\0"], b"L") + m.hdr[-BLOCK:]
        add("pax-then-gnu-long", "encoding", "pax path then a GNU long name for the same member", emit(ms))
        ms = fresh()
        m = ms[longi]
        name = m.name.encode()
        cut = name.rfind(b"/", 0, 155)
        if 0 < cut and len(name) - cut - 1 <= 100:
            h = ustar(m.hdr[-BLOCK:], "x")
            h = set_field(h, 0, 100, name[cut + 1:])
            h = set_field(h, 345, 155, name[:cut])
            ms[longi].hdr = h
            add("ustar-prefix-split", "encoding", "a long name as ustar prefix + name instead of pax", emit(ms))
    spl = next((i for i, x in enumerate(ms0) if len(x.hdr) == BLOCK and x.hdr[345] != 0), None)
    if spl is not None:
        ms = fresh()
        m = ms[spl]
        short = set_field(m.hdr, 345, 155, b"")
        short = set_field(short, 0, 100, m.name.encode()[:100])
        ms[spl].hdr = ext_header(tpl, "PaxHeader/x", [pax_record("path", m.name)]) + short
        add("pax-instead-of-prefix", "encoding", "a name seal splits into ustar prefix + name, given as a pax path", emit(ms))
        ms = fresh()
        m = ms[spl]
        ms[spl].hdr = ext_header(tpl, "././@LongLink", [m.name.encode() + b"\0"], b"L") + short
        add("gnu-instead-of-prefix", "encoding", "a name seal splits into ustar prefix + name, given as a GNU long name", emit(ms))
    # The review's critical case: a global header first, then a Solaris ACL
    # header whose body is a complete second tar stream.
    ms = fresh()
    hidden = hidden_stream(tpl, top)
    ms[fi].hdr = ext_header(tpl, "acl", [hidden], b"A") + ms[fi].hdr
    ms[0].hdr = ext_header(tpl, "pax_global_header", [pax_record("comment", "x")], b"g") + ms[0].hdr
    add("acl-hidden-stream", "pax", "pax global header + Solaris ACL header hiding a second tar stream", emit(ms))
    ms = fresh()
    ms[fi].hdr = ext_header(tpl, "acl", [b"user::rwx\0"], b"A") + ms[fi].hdr
    add("acl-plain", "pax", "a Solaris ACL header before a member", emit(ms))
    ms = fresh()
    ms[fi].hdr = ext_header(tpl, "sparse", [b"x" * 10], b"x") + ms[fi].hdr
    add("pax-malformed", "pax", "a malformed pax record", emit(ms))

    # -- positive twins: the same tar stream, other deflate bits ---------
    add("ok-level-1", "valid", "the same tar stream at gzip level 1 (XFL 4)", gz(raw, 1, 4), False)
    add("ok-level-9", "valid", "the same tar stream at gzip level 9 (XFL 2)", gz(raw, 9, 2), False)

    with open(os.path.join(outdir, "INDEX"), "w") as f:
        f.write("\n".join(index) + "\n")


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "repack":
        repack(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    elif len(sys.argv) == 4 and sys.argv[1] == "corpus":
        corpus(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
