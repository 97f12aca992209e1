"""`okrbot demo`: a clearly marked sample (repository `okrbot-demo/sample`, titles starting "[sample]")."""
