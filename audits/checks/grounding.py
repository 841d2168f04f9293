"""kb_grounded: does an agent's answer match the KB article version it cites?

For every agent answer with `kb_article_ids` (a turn with an `action` is a tool call or a button,
not an answer, and is not judged), each cited article is resolved to the version that was
live when the turn was sent (the latest `updated_at` at or before it; versions sharing one are
ordered by their number), so an answer is judged against what the KB said then, not what it says now. A turn fails when

1. it cites an article with no version live at that time (unknown id, or before its first version);
2. it states a figure that the live versions of the articles it cites (title and body) do not
   contain. Figures are compared as values ("1,000" is 1000, "10.00" is 10, "1.50" is 1.5). A run of
   figures as written (an order number "ORD-2026-1234", a phone number "+84 90 516 6302", "5-10")
   that an earlier customer message gave whole is the customer's, not a claim, and is excused as a
   whole; so the "90" inside that phone number excuses nothing elsewhere; or
3. the conversation's language (its primary subtag: `en-SG` is `en`) is one of `kb_languages` and
   the turn's TF-IDF cosine similarity to every cited version is below `min_similarity`: the answer is
   not about the article it cites. A conversation without a language is not tested for similarity.

TF-IDF as scikit-learn's `TfidfVectorizer` does it (smooth idf = ln((1 + N) / (1 + df)) + 1, raw term
counts, L2 normalised, terms outside the vocabulary ignored), fitted on the KB's article versions
with the vocabulary capped at the `max_vocabulary` terms most frequent across the KB (as
`max_features` does), and computed in SQL, so the
whole warehouse is scored in one set-based pass. Tokens are runs of letters and digits, two or more
characters, lower-cased.

A conversation fails on its first failing turn (the evidence says how many more failed); it is na
when no agent turn cites the KB, or when no KB article is loaded at all.
"""

from __future__ import annotations

from audits.checks.catalogue import AGENTS
from audits.checks.config import CheckConfig
from audits.ingest.fieldsql import q

TOKENS = r"list_filter(regexp_split_to_array(lower(chk_text({0})), '[^\p{{L}}\p{{N}}]+'), lambda w: length(w) >= 2)"


def prepare(cfg: CheckConfig) -> list[str]:
    """Statements that build the temp tables the kb_grounded query reads."""
    langs = "(" + ", ".join(q(x.lower()) for x in cfg.kb_languages) + ")" if cfg.kb_languages else "(NULL)"
    return [
        # The version live at the turn: the latest updated_at at or before it; versions sharing an
        # updated_at are ordered by their number (then name), so the choice never depends on row order.
        f"""
        CREATE OR REPLACE TEMP TABLE _kb_live AS
        SELECT x.*, k.version, k.title, k.body
        FROM (SELECT t.supplier, t.conversation_id, t.turn_index, chk_text(t.text) AS text,
                     coalesce(t.sent_at, c.started_at) AS turn_at,
                     coalesce(lower(split_part(c.language, '-', 1)) IN {langs}, false) AS similar_lang,
                     unnest(list_distinct(t.kb_article_ids)) AS article_id
              FROM _t t JOIN _c c USING (supplier, conversation_id)
              WHERE t.speaker IN {AGENTS} AND t.action IS NULL AND len(t.kb_article_ids) > 0) x
        LEFT JOIN kb_articles k ON x.article_id = k.article_id AND k.updated_at <= x.turn_at
        QUALIFY row_number() OVER (
            PARTITION BY x.supplier, x.conversation_id, x.turn_index, x.article_id
            ORDER BY k.updated_at DESC NULLS LAST, TRY_CAST(k.version AS BIGINT) DESC NULLS LAST,
                     k.version DESC) = 1
        """,
        f"""
        CREATE OR REPLACE TEMP TABLE _kb_idf AS
        WITH docs AS (SELECT article_id, version, unnest({TOKENS.format("title || ' ' || body")}) AS term
                      FROM kb_articles),
             df AS (SELECT term, count(DISTINCT (article_id, version)) AS df, count(*) AS tf FROM docs
                    GROUP BY term ORDER BY tf DESC, term LIMIT {cfg.max_vocabulary})
        SELECT term, ln((1 + n) / (1 + df)) + 1 AS idf
        FROM df, (SELECT count(*) AS n FROM kb_articles)
        """,
        f"""
        CREATE OR REPLACE TEMP TABLE _kb_vec AS
        SELECT article_id, version, term, count(*) * any_value(idf) AS w
        FROM (SELECT article_id, version, unnest({TOKENS.format("title || ' ' || body")}) AS term
              FROM kb_articles) JOIN _kb_idf USING (term)
        GROUP BY article_id, version, term
        """,
        f"""
        CREATE OR REPLACE TEMP TABLE _kb_sim AS
        WITH turns AS (SELECT DISTINCT supplier, conversation_id, turn_index, text FROM _kb_live
                       WHERE similar_lang AND version IS NOT NULL),
             tv AS (SELECT supplier, conversation_id, turn_index, term, count(*) * any_value(idf) AS w
                    FROM (SELECT supplier, conversation_id, turn_index, unnest({TOKENS.format("text")}) AS term
                          FROM turns) JOIN _kb_idf USING (term)
                    GROUP BY supplier, conversation_id, turn_index, term),
             tn AS (SELECT supplier, conversation_id, turn_index, sqrt(sum(w * w)) AS norm FROM tv
                    GROUP BY ALL),
             an AS (SELECT article_id, version, sqrt(sum(w * w)) AS norm FROM _kb_vec GROUP BY ALL),
             dot AS (SELECT l.supplier, l.conversation_id, l.turn_index, l.article_id, l.version,
                            sum(tv.w * av.w) AS dot
                     FROM _kb_live l JOIN tv USING (supplier, conversation_id, turn_index)
                     JOIN _kb_vec av ON av.article_id = l.article_id AND av.version = l.version
                                    AND av.term = tv.term
                     WHERE l.similar_lang
                     GROUP BY ALL)
        SELECT l.supplier, l.conversation_id, l.turn_index,
               max(coalesce(d.dot / (tn.norm * an.norm), 0)) AS similarity
        FROM _kb_live l
        LEFT JOIN dot d USING (supplier, conversation_id, turn_index, article_id, version)
        LEFT JOIN tn USING (supplier, conversation_id, turn_index)
        LEFT JOIN an ON an.article_id = l.article_id AND an.version = l.version
        WHERE l.similar_lang AND l.version IS NOT NULL
        GROUP BY ALL
        """,
    ]


def kb_grounded(cfg: CheckConfig) -> str:
    return rf"""
    WITH cust AS (  -- every run of figures a customer wrote, with the first turn that wrote it
        SELECT supplier, conversation_id, chk_run_key(r) AS run, min(turn_index) AS first_turn
        FROM (SELECT supplier, conversation_id, turn_index, unnest(chk_runs(text)) AS r
              FROM _t WHERE speaker = 'customer' AND regexp_matches(text, '[0-9]'))
        GROUP BY ALL
    ), turn AS (
        SELECT supplier, conversation_id, turn_index, any_value(text) AS text,
               list(article_id || CASE WHEN version IS NULL THEN '' ELSE ' v' || version END
                    ORDER BY article_id) AS cited,
               list(article_id ORDER BY article_id) FILTER (WHERE version IS NULL) AS missing,
               list_distinct(flatten(list(chk_numbers(title || ' ' || body)))) AS kb_numbers,
               string_agg(article_id || ' v' || version || ': ' || chk_clip(body), ' | ' ORDER BY article_id)
                   AS kb_text
        FROM _kb_live GROUP BY supplier, conversation_id, turn_index
    ), runs AS (  -- the agent's runs of figures that no earlier customer message gave whole
        SELECT r.supplier, r.conversation_id, r.turn_index, r.run
        FROM (SELECT supplier, conversation_id, turn_index, unnest(chk_runs(text)) AS run FROM turn) r
        LEFT JOIN cust c ON c.supplier = r.supplier AND c.conversation_id = r.conversation_id
             AND c.run = chk_run_key(r.run) AND c.first_turn < r.turn_index
        WHERE c.run IS NULL
    ), unbacked AS (
        SELECT r.supplier, r.conversation_id, r.turn_index,
               list_distinct(list_filter(flatten(list(chk_numbers(r.run))),
                                         lambda n: NOT list_contains(any_value(t.kb_numbers), n))) AS numbers
        FROM runs r JOIN turn t USING (supplier, conversation_id, turn_index)
        GROUP BY ALL
    ), judged AS (
        SELECT t.*, s.similarity, coalesce(u.numbers, []) AS unbacked
        FROM turn t LEFT JOIN unbacked u USING (supplier, conversation_id, turn_index)
        LEFT JOIN _kb_sim s USING (supplier, conversation_id, turn_index)
    ), failing AS (
        SELECT supplier, conversation_id, turn_index,
               CASE WHEN len(missing) > 0
                    THEN 'cites ' || array_to_string(missing, ', ') || ', which had no version live then'
                    WHEN len(unbacked) > 0
                    THEN 'states ' || array_to_string(unbacked, ', ') || ', which '
                         || array_to_string(cited, ', ') || ' does not contain'
                    ELSE 'similarity ' || round(similarity, 3) || ' to ' || array_to_string(cited, ', ')
                         || ' is below {cfg.min_similarity}' END
               || ': ' || chk_clip(text) || coalesce(' [KB: ' || kb_text || ']', '') AS evidence
        FROM judged
        WHERE len(missing) > 0 OR len(unbacked) > 0 OR similarity < {cfg.min_similarity}
    )
    SELECT c.supplier, c.conversation_id,
           CASE WHEN t.n IS NULL OR NOT exists(SELECT 1 FROM kb_articles) THEN 'na'
                WHEN f.turn IS NULL THEN 'pass' ELSE 'fail' END AS outcome,
           f.turn, f.evidence || CASE WHEN f.n > 1 THEN ' (and ' || (f.n - 1) || ' more turns)' ELSE '' END
               AS evidence
    FROM _c c
    LEFT JOIN (SELECT supplier, conversation_id, count(*) AS n FROM turn GROUP BY ALL) t
        USING (supplier, conversation_id)
    LEFT JOIN (SELECT supplier, conversation_id, min(turn_index) AS turn,
                      arg_min(evidence, turn_index) AS evidence, count(*) AS n
               FROM failing GROUP BY ALL) f USING (supplier, conversation_id)"""
