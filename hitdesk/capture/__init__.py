"""Recording takes: input devices, the recorder and its ring buffer, the files it writes (writers,
markers, repair and recovery of cut-off takes, the recordings library), live scoring and the capture
session that ties them together. One layer above ``analysis``; no Qt and no PortAudio at import."""
