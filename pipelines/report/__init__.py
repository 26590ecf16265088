"""``newsflow report``: one self-contained HTML page (inline SVG and CSS, nothing fetched) over
enriched output — an Avro folder of `run`/`replay`, or a topic range.

``stats`` folds records into counts (pure, one pass, memory bounded by the distinct keys),
``sources`` reads them, ``render`` draws the page, ``cli`` is the command.
"""
