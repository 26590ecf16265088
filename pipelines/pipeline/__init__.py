"""The Beam pipeline graph: the EnrichArticles composite and the stream/replay builders."""
