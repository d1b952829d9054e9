"""SQL injection detector: hand-written attacks and look-alikes per dialect, checked against sqlite3 where
an oracle helps."""

from __future__ import annotations

import sqlite3

import pytest

from tracesec.protect import DIALECTS, detect_sql_injection

ALL = DIALECTS


def query_with(template: str, user_input: str) -> str:
    return template.replace("{}", user_input)


@pytest.mark.parametrize("dialect", ALL)
@pytest.mark.parametrize(
    ("template", "user_input"),
    [
        ("SELECT * FROM users WHERE name = '{}'", "x' OR '1'='1"),
        ("SELECT * FROM users WHERE name = '{}' AND pw = 'p'", "admin'-- "),
        ("SELECT * FROM users WHERE name = '{}' AND pw = 'p'", "admin'/*"),
        ("SELECT * FROM users WHERE id = {}", "1 OR 1=1"),
        ("SELECT * FROM users WHERE id = {}", "1; DROP TABLE users"),
        ("SELECT * FROM users WHERE id = {}", "-1 UNION SELECT password FROM users"),
        ("SELECT * FROM users ORDER BY {}", "name; DELETE FROM users"),
        ("SELECT * FROM users WHERE name LIKE '%{}%'", "%' OR 'a'='a"),
        ("SELECT * FROM users WHERE name = '{}' AND pw = 'p'", "x' AND 1=0 UNION SELECT 1 -- "),
        ("SELECT * FROM users WHERE id IN ({})", "1) OR (1=1"),
        ("SELECT * FROM t WHERE a = '{}' AND b = 1", "x'"),  # swallows the closing quote
        ("SELECT * FROM users WHERE name = '{}'", "é' OR 'ü'='ü"),
    ],
)
def test_attacks_are_flagged_in_every_dialect(dialect: str, template: str, user_input: str) -> None:
    assert detect_sql_injection(query_with(template, user_input), user_input, dialect)


@pytest.mark.parametrize("dialect", ALL)
@pytest.mark.parametrize(
    ("query", "user_input"),
    [
        ("SELECT * FROM users WHERE name = ?", "x' OR '1'='1"),  # parameterised
        ("SELECT * FROM users WHERE name = %s", "x' OR '1'='1"),
        ("SELECT * FROM users WHERE name = 'O''Brien'", "O'Brien"),  # escaped the standard way
        ("SELECT * FROM users WHERE name = '''quoted'''", "'quoted'"),  # input's quotes are escaped
        ("SELECT * FROM users WHERE name = 'rock'''", "rock'"),
        ("SELECT * FROM users WHERE name = 'john smith'", "john smith"),
        ("SELECT * FROM users WHERE name = 'a -- b /* c */ # d'", "a -- b /* c */ # d"),
        ("SELECT * FROM users WHERE id = 42", "42"),
        ("SELECT * FROM users WHERE price = -3.5e2", "-3.5e2"),
        ("SELECT * FROM users WHERE id IN (1, 2, 3)", "1, 2, 3"),
        ("SELECT * FROM users WHERE name = 'union select'", "union select"),
        ("SELECT name FROM users", "name"),  # word-only input that is in the fixed part of the query
        ("SELECT * FROM users WHERE city = 'Zürich – Genève'", "Zürich – Genève"),
        ("SELECT * FROM users WHERE a = 'x.y' AND b = 'x.y'", "x.y"),  # occurs twice, both in literals
        ("SELECT * FROM users WHERE note = ''", ""),
        ("SELECT * FROM users WHERE note = 'ab'", "b"),  # a single character is never a structure
        ("SELECT * FROM users WHERE name = 'x'", "not in the query at all"),
        ("SELECT * FROM users ORDER BY users.created_at", "users.created_at"),
    ],
)
def test_look_alikes_are_not_flagged(dialect: str, query: str, user_input: str) -> None:
    assert not detect_sql_injection(query, user_input, dialect)


def test_very_long_input_inside_a_literal_is_data_and_outside_is_not() -> None:
    long_text = "lorem ipsum, dolor (sit) amet; " * 400
    assert not detect_sql_injection(f"INSERT INTO notes VALUES ('{long_text}')", long_text)
    attack = long_text + "' OR 1=1 -- "
    assert detect_sql_injection(f"SELECT * FROM notes WHERE body = '{attack}'", attack)


def test_input_present_several_times_is_flagged_when_any_copy_breaks_out() -> None:
    user_input = "x' OR 'a'='a"
    query = f"SELECT * FROM t WHERE a = '{user_input}' AND b = '{user_input}'"
    assert detect_sql_injection(query, user_input)


def test_overlapping_occurrence_in_a_like_pattern() -> None:
    assert detect_sql_injection("SELECT * FROM t WHERE a LIKE '%'%'%'", "'%'")


def test_invalid_dialect_names_the_accepted_ones() -> None:
    with pytest.raises(ValueError, match="generic, sqlite, postgresql, mysql"):
        detect_sql_injection("SELECT 1", "1", dialect="oracle")


class TestMySQL:
    def test_backslash_escaped_quote_is_data(self) -> None:
        assert not detect_sql_injection(r"SELECT * FROM t WHERE a = 'O\'Brien'", "O'Brien", "mysql")

    def test_backslash_that_swallows_the_closing_quote(self) -> None:
        query = r"SELECT * FROM t WHERE a = 'x\' AND b = 1"
        assert detect_sql_injection(query, "x\\", "mysql")
        # Standard SQL has no backslash escapes: there the same query keeps the input inside the literal.
        assert not detect_sql_injection(query, "x\\", "postgresql")

    def test_hash_comment(self) -> None:
        assert detect_sql_injection("SELECT * FROM t WHERE a = 'x'# ' AND b = 'y'", "x'# ", "mysql")
        assert not detect_sql_injection("SELECT * FROM t WHERE a = 'x#y'", "x#y", "mysql")

    def test_double_quotes_are_strings(self) -> None:
        assert not detect_sql_injection('SELECT * FROM t WHERE a = "it\'s"', "it's", "mysql")
        assert detect_sql_injection('SELECT * FROM t WHERE a = "x" OR "1"="1"', 'x" OR "1"="1', "mysql")

    def test_backtick_identifier(self) -> None:
        assert not detect_sql_injection("SELECT `my col` FROM t", "my col", "mysql")
        assert detect_sql_injection(
            "SELECT `a` FROM t; DROP TABLE t; -- ` FROM t", "a` FROM t; DROP TABLE t; -- ", "mysql"
        )

    def test_executable_comment_body_is_code(self) -> None:
        assert detect_sql_injection(
            "SELECT * FROM t WHERE id = 1 /*!UNION SELECT 2*/", "1 /*!UNION SELECT 2*/", "mysql"
        )


class TestPostgreSQL:
    def test_dollar_quoted_literal_holds_quotes(self) -> None:
        assert not detect_sql_injection("SELECT $$it's 'here'$$", "it's 'here'", "postgresql")
        assert not detect_sql_injection("SELECT $tag$a $$ b$tag$", "a $$ b", "postgresql")

    def test_breaking_out_of_dollar_quotes(self) -> None:
        user_input = "x$$ OR 1=1 --"
        assert detect_sql_injection(f"SELECT * FROM t WHERE a = $${user_input}$$", user_input, "postgresql")

    def test_escape_string(self) -> None:
        assert not detect_sql_injection(r"SELECT E'it\'s'", "it's", "postgresql")
        assert detect_sql_injection(r"SELECT * FROM t WHERE a = E'x\' AND b = 1", "x\\", "postgresql")

    def test_nested_block_comments(self) -> None:
        query = "SELECT 1 /* outer /* inner */ still comment */ FROM t"
        assert not detect_sql_injection(query, "outer /* inner */ still comment", "postgresql")
        assert detect_sql_injection("SELECT 1 /* a */ */ FROM t", "a */ */", "postgresql")

    def test_positional_parameters_and_casts(self) -> None:
        assert not detect_sql_injection("SELECT * FROM t WHERE a = $1::text", "x' OR 1=1", "postgresql")


class TestSQLite:
    def test_bracket_and_backtick_identifiers(self) -> None:
        assert not detect_sql_injection("SELECT [my col], `other col` FROM t", "my col", "sqlite")
        assert detect_sql_injection(
            "SELECT [a] FROM t; DROP TABLE t; --] FROM t", "a] FROM t; DROP TABLE t; --", "sqlite"
        )

    def test_double_quoted_identifier(self) -> None:
        assert not detect_sql_injection('SELECT "weird ""name""" FROM t', 'weird ""name""', "sqlite")


@pytest.mark.parametrize(
    "user_input",
    ["O'Brien", "x' OR '1'='1", "a''b", "'; DROP TABLE t; --", "\\'", "%_%", "it's -- fine", "''"],
)
def test_agrees_with_sqlite_on_literal_context(user_input: str) -> None:
    """Oracle: sqlite still reads the unescaped query as one string literal, and names the column after
    that whole literal (no alias slipped in), exactly when the input did not break out; its value may
    differ ('' inside a literal is an escaped quote). The detector must agree."""
    literal = f"'{user_input}'"
    try:
        cursor = sqlite3.connect(":memory:").execute(f"SELECT {literal}")
        rows = cursor.fetchall()
        intact = cursor.description[0][0] == literal and len(rows[0]) == 1 and isinstance(rows[0][0], str)
    except sqlite3.Error:
        intact = False
    assert detect_sql_injection(f"SELECT {literal}", user_input, "sqlite") is not intact
