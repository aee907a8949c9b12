"""Results and their protection: the figures a closed round or campaign publishes, and why nothing
hidden can be worked out from them (DESIGN.md 2.2, 2.3 and 2.6).

statistics (the metrics), distributions (rule 3 for one cell), suppression (the pattern over a
hierarchy), audit (how narrowly a hidden cell can be pinned), history (earlier rounds of the same
people), protection (all of it for one question), figures and rollups (storing what is published),
participation (how many answered) and trends (change since the last round).
"""
