#!/usr/bin/env python3
"""Re-pack and forge bundles for tests/cmd/test_bundle.sh (test-only).

  bundle_tool.py repack IN OUT OP [ARGS]     copy a bundle, keeping every tar
      header as it was (so only the change under test differs), and gzip it
      with the canonical v1 gzip header.  OP:
        modify PATH          flip the first byte of member PATH
        add PATH             add a member PATH (inside the top folder)
        remove PATH          drop member PATH
        rename PATH NEW      rename member PATH to NEW
        replace PATH FILE    replace member PATH's bytes with FILE's
  bundle_tool.py hostile OUT KIND            KIND: traversal symlink bigsize
      duplicate bomb absolute hardlink fifo
"""
import gzip
import io
import os
import sys
import tarfile


def canonical_gzip(raw, out):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as g:
        g.write(raw)
    data = bytearray(buf.getvalue())
    data[8] = 0      # XFL as zlib level 6 (libarchive writes 0)
    data[9] = 3      # OS Unix, as libarchive writes (Python writes 255)
    with open(out, "wb") as f:
        f.write(data)


def info(name, size=0, kind=tarfile.REGTYPE, mtime=0):
    ti = tarfile.TarInfo(name)
    ti.size = size
    ti.type = kind
    ti.mode = 0o555 if kind == tarfile.DIRTYPE else 0o444
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    ti.mtime = mtime
    return ti


def repack(src, dst, op, args):
    """Block-level edits (tarcraft): every header seal wrote stays as it was."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import tarcraft
    tarcraft.repack(src, dst, op, args)


class Zeros(io.RawIOBase):
    def __init__(self, n):
        self.left = n

    def readinto(self, b):
        k = min(len(b), self.left)
        b[:k] = bytes(k)
        self.left -= k
        return k


def hostile(dst, kind):
    out = io.BytesIO()
    t = tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT)
    t.addfile(info("t/", kind=tarfile.DIRTYPE))
    if kind == "traversal":
        t.addfile(info("t/../../tmp/kcustody-pwned", 3), io.BytesIO(b"pwn"))
    elif kind == "absolute":
        t.addfile(info("/tmp/kcustody-pwned", 3), io.BytesIO(b"pwn"))
    elif kind == "symlink":
        ti = info("t/link", kind=tarfile.SYMTYPE)
        ti.linkname = "/etc/passwd"
        t.addfile(ti)
    elif kind == "hardlink":
        ti = info("t/link", kind=tarfile.LNKTYPE)
        ti.linkname = "/etc/passwd"
        t.addfile(ti)
    elif kind == "fifo":
        t.addfile(info("t/fifo", kind=tarfile.FIFOTYPE))
    elif kind == "duplicate":
        t.addfile(info("t/a", 1), io.BytesIO(b"1"))
        t.addfile(info("t/a", 1), io.BytesIO(b"2"))
    elif kind == "bigsize":
        # A header declaring 10 GiB with only 512 bytes behind it.
        out.write(info("t/big", 10 << 30).tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape"))
        out.write(bytes(512))
        t.fileobj = None
    elif kind == "bomb":
        for i in range(4):
            t.addfile(info("t/z%d" % i, 256 << 20), Zeros(256 << 20))
    if t.fileobj is not None:
        t.close()
    else:
        out.write(bytes(1024))
    canonical_gzip(out.getvalue(), dst)


if __name__ == "__main__":
    if sys.argv[1] == "repack":
        repack(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    elif sys.argv[1] == "hostile":
        hostile(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
