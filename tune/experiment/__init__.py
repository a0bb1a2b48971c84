"""Everything that needs Ray: the search driver, the Tuner, the searcher stack, the scheduler, the
trainable, resources, interrupts, Ray's environment and its log levels.
"""
