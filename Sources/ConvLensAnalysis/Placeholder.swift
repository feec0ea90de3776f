// ConvLensAnalysis: see the issue that builds it.
