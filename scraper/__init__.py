"""govfeed's crawling side: sources config, spider, extraction, pipelines and store."""
