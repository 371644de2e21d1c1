"""Reports: everything that turns stored stories into what people read.

``digest``   the day's Agenda Regional (stories ranked, editions, HTML/text/index files)
``chart``    the digest's picture (notes per region, inline SVG; ``svg`` draws it)
``spanish``  dates, lists and the regions' order as readers write them
``templates/`` the jinja2 templates

Reports read the store; they never cluster or re-link anything.
"""
