//! Projection tables: the flat rows that list screens, rules and reports read.
//!
//! A record kind declares its tables ([`Table`]) and turns one record into rows ([`Rows`]). The
//! store writes those rows in the same SQLite transaction as the document, replacing whatever
//! the record projected before, and can rebuild every table from the documents. Every table has
//! a `doc_id` column (the record's id) added by the store; a kind's first table has one row per
//! record (`doc_id` is its primary key), further tables hold child rows (members, incomes...).
//!
//! Not here: SQL. Kinds only describe columns and values; `store` owns the statements.

use rusqlite::types::Value;

use crate::values::{Date, Money, Timestamp};

/// The SQLite storage class of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlType {
    Text,
    Integer,
    Real,
}

impl SqlType {
    pub fn sql(self) -> &'static str {
        match self {
            SqlType::Text => "TEXT",
            SqlType::Integer => "INTEGER",
            SqlType::Real => "REAL",
        }
    }
}

/// One projection table of a record kind.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, SqlType)],
    /// Each entry is the column list of one index.
    pub indexes: &'static [&'static [&'static str]],
}

impl Table {
    /// The DDL that creates the table as a child table (several rows per record).
    pub fn ddl(&self) -> String {
        self.ddl_for(false)
    }

    /// The DDL that creates the table and its indexes. A kind's main table (one row per
    /// record) is keyed by `doc_id` without a rowid, so a write touches one b-tree less.
    /// The text doubles as the table's version: when it changes, the store drops the table
    /// and rebuilds it from the documents.
    pub fn ddl_for(&self, main: bool) -> String {
        self.ddl_in(main, SqlType::sql, " WITHOUT ROWID")
    }

    /// The same table for PostgreSQL: `BIGINT`/`DOUBLE PRECISION` columns and a primary key
    /// on `doc_id` for a main table.
    pub fn ddl_postgres(&self, main: bool) -> String {
        let ty = |t: SqlType| match t {
            SqlType::Text => "TEXT",
            SqlType::Integer => "BIGINT",
            SqlType::Real => "DOUBLE PRECISION",
        };
        self.ddl_in(main, ty, "")
    }

    /// The DDL in a dialect: its column types, and what follows a main table's definition.
    fn ddl_in(
        &self,
        main: bool,
        ty: impl Fn(SqlType) -> &'static str,
        main_suffix: &str,
    ) -> String {
        let cols: String = self
            .columns
            .iter()
            .map(|(n, t)| format!(", {n} {}", ty(*t)))
            .collect();
        let mut ddl = if main {
            format!(
                "CREATE TABLE {} (doc_id TEXT NOT NULL PRIMARY KEY{cols}){main_suffix};",
                self.name
            )
        } else {
            format!(
                "CREATE TABLE {0} (doc_id TEXT NOT NULL{cols});\nCREATE INDEX {0}_doc ON {0}(doc_id);",
                self.name
            )
        };
        for (i, index) in self.indexes.iter().enumerate() {
            ddl.push_str(&format!(
                "\nCREATE INDEX {0}_i{i} ON {0}({1});",
                self.name,
                index.join(", ")
            ));
        }
        ddl
    }

    /// The SQL type of a column, if the table has it.
    pub fn column_type(&self, name: &str) -> Option<SqlType> {
        self.columns
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
    }
}

/// Rows produced by projecting one record.
#[derive(Debug, Default)]
pub struct Rows {
    pub(crate) rows: Vec<(&'static str, Vec<(&'static str, Value)>)>,
}

impl Rows {
    /// Adds a row to `table`; `doc_id` is filled in by the store.
    pub fn push(&mut self, table: &'static str, values: Vec<(&'static str, Value)>) {
        self.rows.push((table, values));
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// The rows: (table, [(column, value)]).
    pub fn into_rows(self) -> Vec<(&'static str, Vec<(&'static str, Value)>)> {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Conversion of field values to SQLite values for projection rows.
pub trait Sql {
    fn sql(&self) -> Value;
}

impl Sql for str {
    fn sql(&self) -> Value {
        Value::Text(self.to_string())
    }
}

impl Sql for String {
    fn sql(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl Sql for i64 {
    fn sql(&self) -> Value {
        Value::Integer(*self)
    }
}

impl Sql for i32 {
    fn sql(&self) -> Value {
        Value::Integer(i64::from(*self))
    }
}

impl Sql for u32 {
    fn sql(&self) -> Value {
        Value::Integer(i64::from(*self))
    }
}

impl Sql for f64 {
    fn sql(&self) -> Value {
        Value::Real(*self)
    }
}

impl Sql for bool {
    fn sql(&self) -> Value {
        Value::Integer(i64::from(*self))
    }
}

impl Sql for Money {
    /// Money is projected as whole fen so sums stay exact.
    fn sql(&self) -> Value {
        Value::Integer(self.fen())
    }
}

impl Sql for Date {
    fn sql(&self) -> Value {
        Value::Text(self.format("%Y-%m-%d").to_string())
    }
}

impl Sql for Timestamp {
    /// Timestamps are projected in UTC with a fixed width so that text order is time order.
    fn sql(&self) -> Value {
        Value::Text(utc_text(self))
    }
}

impl<T: Sql> Sql for Option<T> {
    fn sql(&self) -> Value {
        match self {
            Some(v) => v.sql(),
            None => Value::Null,
        }
    }
}

impl<T: Sql + ?Sized> Sql for &T {
    fn sql(&self) -> Value {
        (**self).sql()
    }
}

/// `2016-03-01T02:30:00.000Z`: the projected form of a timestamp.
pub fn utc_text(ts: &Timestamp) -> String {
    ts.with_timezone(&chrono::Utc)
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Implements [`Sql`] for code enums (stored as their code).
macro_rules! sql_for_codes {
    ($($t:ty),+ $(,)?) => {
        $(impl $crate::projection::Sql for $t {
            fn sql(&self) -> rusqlite::types::Value {
                rusqlite::types::Value::Text(self.code().to_string())
            }
        })+
    };
}
pub(crate) use sql_for_codes;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddl_names_every_column_and_index() {
        let t = Table {
            name: "p_x",
            columns: &[("a", SqlType::Text), ("b", SqlType::Integer)],
            indexes: &[&["a", "b"]],
        };
        let ddl = t.ddl();
        assert!(ddl.contains("CREATE TABLE p_x (doc_id TEXT NOT NULL, a TEXT, b INTEGER);"));
        assert!(ddl.contains("CREATE INDEX p_x_i0 ON p_x(a, b);"));
        assert!(ddl.contains("CREATE INDEX p_x_doc ON p_x(doc_id);"));
        let main = t.ddl_for(true);
        assert!(
            main.contains("(doc_id TEXT NOT NULL PRIMARY KEY, a TEXT, b INTEGER) WITHOUT ROWID;")
        );
        assert!(!main.contains("p_x_doc"));
    }
}
