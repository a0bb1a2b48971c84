"""Live: OpenFace rows as they are written -> Live Link Face UDP datagrams, one per 60 fps frame.

`python -m au2bs.live` runs it; `udp` holds the datagram layout (as Unreal
reads it), `channels` which slot each channel goes to, `rows` the tolerant
one-line OpenFace parser, `au2bs.stream` the frame-by-frame model.
"""

from au2bs.live.channels import RECEIVER_NAMES, to_receiver_order, wire_order
from au2bs.live.rows import OpenFaceRow, RowParser
from au2bs.live.udp import Datagram, decode_datagram, encode_datagram

__all__ = [
    "RECEIVER_NAMES",
    "Datagram",
    "OpenFaceRow",
    "RowParser",
    "decode_datagram",
    "encode_datagram",
    "to_receiver_order",
    "wire_order",
]
