"""Process set-up before anything heavy starts: the device, msrun and its collectives, where
files come from (local folder or hub), atomic writes and msgpt's environment switches.

Nothing here imports mindnlp at module level: a recipe reads its command line, picks the
device and joins msrun before ``msgpt.backend`` fixes them.
"""
