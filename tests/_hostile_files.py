"""Hostile files for sk_autoencoder.io.load, made without holding them in memory."""

import shutil
import zipfile

import torch

_MiB = 2**20


def deflate_bomb(good_path, path, record_mib=256):
    """Copy ``good_path``, replacing its first tensor record by zeros, deflated.

    The zeros (``record_mib`` MiB) are streamed into the archive one MiB at a
    time, so the file (about a thousandth of that) is made in little memory.
    """
    zeros = bytes(_MiB)
    with zipfile.ZipFile(good_path) as source, zipfile.ZipFile(path, "w") as out:
        for info in source.infolist():
            if info.filename.endswith("/data/0"):
                target = zipfile.ZipInfo(info.filename)
                target.compress_type = zipfile.ZIP_DEFLATED
                with out.open(target, "w", force_zip64=True) as record:
                    for _ in range(record_mib):
                        record.write(zeros)
            else:
                out.writestr(info, source.read(info))


def declared_layers_file(good_path, path, hidden_layer_sizes):
    """Copy ``good_path`` with ``hidden_layer_sizes`` changed, weights kept."""
    payload = torch.load(good_path, weights_only=True)
    payload["params"]["hidden_layer_sizes"] = hidden_layer_sizes
    torch.save(payload, path)


def copy(good_path, path):
    shutil.copyfile(good_path, path)
