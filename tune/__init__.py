"""tune: the distributed layer (search spaces, Ray Tune trainable, run and inspect CLIs).

The only package that imports Ray. Built on `au2bs`.
"""
