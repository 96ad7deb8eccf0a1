"""The format version of the golden-vector files and their names ([GV-VERSION-1], docs/vectors/versioning.md)."""

FORMAT_VERSION = 2
"""Version of the vector files; part of every file name (``rope_apply_v2.json``) and header."""


def file_names(version: int = FORMAT_VERSION) -> tuple[str, ...]:
    """The names :func:`refrope.vectors.build` produces for a format version, in order (the ``apply_rope_nd``,
    xPos and dual-chunk files from version 2 on).

    >>> file_names(1)[:2], file_names(2)[-3:]
    (('rope_apply_v1.json', 'rope_apply_v1.txt'), ('xpos_v2.json', 'dual_chunk_v2.json', 'index_v2.json'))
    """
    v = f"v{version}"
    since_v2 = (f"rope_nd_{v}.json", f"xpos_{v}.json", f"dual_chunk_{v}.json") if version >= 2 else ()
    return (f"rope_apply_{v}.json", f"rope_apply_{v}.txt", f"attention_{v}.json", f"rope_long_{v}.safetensors",
            f"rope_long_{v}.manifest.json", f"attention_long_{v}.safetensors", f"attention_long_{v}.manifest.json",
            *since_v2, f"index_{v}.json")
