"""The survey and answering it: instruments, rounds, answer links, sealed answers and closing."""
