"""Seeds for fuzz_archive: small archives of a checkpoint-like folder (a
config.json, a tiny safetensors file, a .zst member) as Python's tarfile and
zipfile write them: tar (ustar, gnu, pax), tar.gz, tar.bz2, tar.xz and zip
(stored and deflated), plus a tar holding a symbolic link and a ".." name.

usage: make_archive_seeds.py OUT_DIR
"""

import io
import os
import sys
import tarfile
import zipfile

FILES = {
    "ckpt/config.json": b'{"architectures": ["LlamaForCausalLM"], "hidden_size": 8}',
    "ckpt/model.safetensors": b"\x10\x00\x00\x00\x00\x00\x00\x00" + b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'[:16] + b"\x00\x00\x80\x3f",
    # zstd frame of b"{}" (level 3), written by hand: magic, header, one raw block
    "ckpt/tokenizer.json.zst": bytes.fromhex("28b52ffd2002110000" "7b7d"),
}


def tar(path, mode, fmt, extra=()):
    with tarfile.open(path, mode, format=fmt) as t:
        for name, data in list(FILES.items()) + list(extra):
            info = tarfile.TarInfo(name)
            if isinstance(data, tuple):  # a link
                info.type, info.linkname = data
                t.addfile(info)
            else:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))


def main(out):
    os.makedirs(out, exist_ok=True)
    tar(f"{out}/ustar.tar", "w", tarfile.USTAR_FORMAT)
    tar(f"{out}/gnu.tar", "w", tarfile.GNU_FORMAT)
    tar(f"{out}/pax.tar.gz", "w:gz", tarfile.PAX_FORMAT)
    tar(f"{out}/pax.tar.bz2", "w:bz2", tarfile.PAX_FORMAT)
    tar(f"{out}/pax.tar.xz", "w:xz", tarfile.PAX_FORMAT)
    tar(f"{out}/links.tar", "w", tarfile.PAX_FORMAT,
        [("ckpt/link.json", (tarfile.SYMTYPE, "/etc/passwd")), ("ckpt/../up.json", b"{}")])
    for method, name in ((zipfile.ZIP_STORED, "stored.zip"), (zipfile.ZIP_DEFLATED, "deflated.zip")):
        with zipfile.ZipFile(f"{out}/{name}", "w", method) as z:
            for n, data in FILES.items():
                z.writestr(n, data)


if __name__ == "__main__":
    main(sys.argv[1])
