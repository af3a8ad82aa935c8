"""Reduced population model of Litwin-Kumar & Doiron (2014), paper Fig. 7.

Populations of binary neurons as a birth-death process (Bressloff 2010), simulated exactly with the
Gillespie algorithm; the deterministic Wilson-Cowan limit; metastable-state transition rates; the
rate-based plasticity rule with row sums held; and the slow weight vector field.
"""
