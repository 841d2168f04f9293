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
        WITH pairs AS (SELECT DISTINCT text, article_id, version FROM _kb_live  -- answers repeat
                       WHERE similar_lang AND version IS NOT NULL),
             tv AS (SELECT text, term, count(*) * any_value(idf) AS w
                    FROM (SELECT text, unnest({TOKENS.format("text")}) AS term
                          FROM (SELECT DISTINCT text FROM pairs)) JOIN _kb_idf USING (term)
                    GROUP BY text, term),
             tn AS (SELECT text, sqrt(sum(w * w)) AS norm FROM tv GROUP BY ALL),
             an AS (SELECT article_id, version, sqrt(sum(w * w)) AS norm FROM _kb_vec GROUP BY ALL),
             dot AS (SELECT p.text, p.article_id, p.version, sum(tv.w * av.w) AS dot
                     FROM pairs p JOIN tv USING (text)
                     JOIN _kb_vec av ON av.article_id = p.article_id AND av.version = p.version
                                    AND av.term = tv.term
                     GROUP BY ALL),
             sim AS (SELECT p.text, p.article_id, p.version,
                            coalesce(d.dot / (tn.norm * an.norm), 0) AS similarity
                     FROM pairs p
                     LEFT JOIN dot d USING (text, article_id, version)
                     LEFT JOIN tn USING (text)
                     LEFT JOIN an ON an.article_id = p.article_id AND an.version = p.version)
        SELECT l.supplier, l.conversation_id, l.turn_index, max(s.similarity) AS similarity
        FROM _kb_live l JOIN sim s USING (text, article_id, version)
        WHERE l.similar_lang AND l.version IS NOT NULL
        GROUP BY ALL
        """,
    ]


def kb_grounded(cfg: CheckConfig) -> str:
    # Work per cited article version (`doc`) and per distinct answer text (`said`) where it can be, and
    # build the evidence (cited versions, KB text) only for the failing turns (`bad`).
    return rf"""
    WITH cust AS (  -- every run of figures a customer wrote, with the first turn that wrote it
        SELECT supplier, conversation_id, chk_run_key(r) AS run, min(turn_index) AS first_turn
        FROM (SELECT supplier, conversation_id, turn_index, unnest(chk_runs(text)) AS r
              FROM _t WHERE speaker = 'customer' AND regexp_matches(text, '[0-9]'))
        GROUP BY ALL
    ), doc AS (
        SELECT article_id, version, chk_numbers(title || ' ' || body) AS numbers, chk_clip(body) AS clip
        FROM kb_articles
    ), said AS MATERIALIZED (  -- the runs of figures in each distinct answer text
        SELECT text, unnest(chk_runs(text)) AS run FROM (SELECT DISTINCT text FROM _kb_live)
    ), turn AS (
        SELECT l.supplier, l.conversation_id, l.turn_index, any_value(l.text) AS text,
               bool_or(l.version IS NULL) AS has_missing,
               list_distinct(flatten(list(coalesce(d.numbers, [])))) AS kb_numbers
        FROM _kb_live l LEFT JOIN doc d USING (article_id, version)
        GROUP BY l.supplier, l.conversation_id, l.turn_index
    ), runs AS (  -- the agent's runs of figures that no earlier customer message gave whole
        SELECT t.supplier, t.conversation_id, t.turn_index, s.run
        FROM turn t JOIN said s USING (text)
        LEFT JOIN cust c ON c.supplier = t.supplier AND c.conversation_id = t.conversation_id
             AND c.run = chk_run_key(s.run) AND c.first_turn < t.turn_index
        WHERE c.run IS NULL
    ), unbacked AS (
        SELECT r.supplier, r.conversation_id, r.turn_index,
               list_distinct(list_filter(flatten(list(chk_numbers(r.run))),
                                         lambda n: NOT list_contains(any_value(t.kb_numbers), n))) AS numbers
        FROM runs r JOIN turn t USING (supplier, conversation_id, turn_index)
        GROUP BY ALL
    ), bad AS MATERIALIZED (
        SELECT * FROM (
            SELECT t.supplier, t.conversation_id, t.turn_index, t.text, t.has_missing, s.similarity,
                   coalesce(u.numbers, []) AS unbacked
            FROM turn t LEFT JOIN unbacked u USING (supplier, conversation_id, turn_index)
            LEFT JOIN _kb_sim s USING (supplier, conversation_id, turn_index))
        WHERE has_missing OR len(unbacked) > 0 OR similarity < {cfg.min_similarity}
    ), detail AS (
        SELECT l.supplier, l.conversation_id, l.turn_index,
               list(l.article_id || CASE WHEN l.version IS NULL THEN '' ELSE ' v' || l.version END
                    ORDER BY l.article_id) AS cited,
               list(l.article_id ORDER BY l.article_id) FILTER (WHERE l.version IS NULL) AS missing,
               string_agg(l.article_id || ' v' || l.version || ': ' || d.clip, ' | ' ORDER BY l.article_id)
                   AS kb_text
        FROM _kb_live l SEMI JOIN bad USING (supplier, conversation_id, turn_index)
        LEFT JOIN doc d USING (article_id, version)
        GROUP BY l.supplier, l.conversation_id, l.turn_index
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
        FROM bad JOIN detail USING (supplier, conversation_id, turn_index)
    )
    SELECT c.supplier, c.conversation_id,
           CASE WHEN t.conversation_id IS NULL OR NOT exists(SELECT 1 FROM kb_articles) THEN 'na'
                WHEN f.turn IS NULL THEN 'pass' ELSE 'fail' END AS outcome,
           f.turn, f.evidence || CASE WHEN f.n > 1 THEN ' (and ' || (f.n - 1) || ' more turns)' ELSE '' END
               AS evidence
    FROM _c c
    LEFT JOIN (SELECT DISTINCT supplier, conversation_id FROM _kb_live) t USING (supplier, conversation_id)
    LEFT JOIN (SELECT supplier, conversation_id, min(turn_index) AS turn,
                      arg_min(evidence, turn_index) AS evidence, count(*) AS n
               FROM failing GROUP BY ALL) f USING (supplier, conversation_id)"""
