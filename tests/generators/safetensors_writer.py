"""A safetensors writer written from the format description (8-byte little-endian header
length, JSON header padded with spaces to 8 bytes, raw data), independent of Featurescope's
own writer, shared by the fixture generators."""
import json
import struct


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, dtype string, shape, raw bytes) in the order to lay them out."""
    header, offset, blob = {}, 0, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, st_dtype, shape, raw in tensors:
        header[name] = {"dtype": st_dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blob += raw
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + blob)
