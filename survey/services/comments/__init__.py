"""Citizens' comments for officials: topics, the inbox, and the lexicon behind the topics.

* ``topics`` — the topic codes and their names (vi/en).
* ``lexicon`` — the shipped Vietnamese lexicon (``default_lexicon.csv``) and a province's changes.
* ``tagger`` — word segmentation (``underthesea``, offline) and the matching rules.
* ``tagging`` — tagging stored comments in batches, never in the citizen's request.
* ``inbox`` — the officials' inbox: filters, read marks, topic counts and trend, exports.
* ``lexicon_admin`` — the province's changes to the lexicon (admin page, CSV import), audited.
* ``retention`` — blanking comments older than ``COMMENT_RETENTION_DAYS`` (``purge-comments``).

Comments are tagged **lazily**: the citizen's POST stores the comment and nothing else (it is
benchmarked). ``flask --app wsgi tag-comments`` (for cron) tags every comment not yet tagged by the
current lexicon, and the inbox tags the untagged comments of the page it shows (and a bounded
number more) before counting. Tags live in ``comment_topic(response_id, topic)``; the lexicon
version that produced them in ``comment_state``, so a changed lexicon re-tags on the next pass.
"""
