"""ICAO 9303 eMRTDs (passports and travel documents) read over PC/SC with Basic Access
Control: the MRZ key, BAC, secure messaging, EF.COM, DG1 (the MRZ) and DG2 (the face)."""
