"""Experiments that run the spiking engine beyond the stage chain: the probe protocol
(:mod:`.probe`), the rules' rate maps (:mod:`.rate_dependence`) and the time-step check
(:mod:`.dt_check`). They live with the model; :mod:`homeoplastic.analysis` only reduces the
datasets they write.
"""
