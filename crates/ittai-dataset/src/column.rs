//! Typed column builders shared by every writer of canonical tables, and the mapping
//! from Rust field types to column types.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, Int64Builder, StringBuilder,
    UInt8Builder,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array, StringArray,
    UInt8Array,
};
use chrono::NaiveDate;
use ittai_model::PersonId;

use super::schema::ColType;

/// Days from 1970-01-01 (the Arrow Date32 epoch) to `d`.
pub fn date_to_days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

/// Inverse of [`date_to_days`].
pub fn days_to_date(days: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch") + chrono::Duration::days(days as i64)
}

/// A growable column of one [`ColType`].
#[derive(Debug)]
pub enum ColumnBuilder {
    /// `str`.
    Str(StringBuilder),
    /// `u8`.
    U8(UInt8Builder),
    /// `i32`.
    I32(Int32Builder),
    /// `i64`.
    I64(Int64Builder),
    /// `f64`.
    F64(Float64Builder),
    /// `bool`.
    Bool(BooleanBuilder),
    /// `date` (days since 1970-01-01).
    Date(Date32Builder),
}

impl ColumnBuilder {
    /// An empty builder for `ty`.
    pub fn new(ty: ColType) -> Self {
        match ty {
            ColType::Str => Self::Str(StringBuilder::new()),
            ColType::U8 => Self::U8(UInt8Builder::new()),
            ColType::I32 => Self::I32(Int32Builder::new()),
            ColType::I64 => Self::I64(Int64Builder::new()),
            ColType::F64 => Self::F64(Float64Builder::new()),
            ColType::Bool => Self::Bool(BooleanBuilder::new()),
            ColType::Date => Self::Date(Date32Builder::new()),
        }
    }
    /// Appends a null.
    pub fn append_null(&mut self) {
        match self {
            Self::Str(b) => b.append_null(),
            Self::U8(b) => b.append_null(),
            Self::I32(b) => b.append_null(),
            Self::I64(b) => b.append_null(),
            Self::F64(b) => b.append_null(),
            Self::Bool(b) => b.append_null(),
            Self::Date(b) => b.append_null(),
        }
    }
    /// Finishes the column into an Arrow array (the builder is left empty).
    pub fn finish(&mut self) -> ArrayRef {
        match self {
            Self::Str(b) => Arc::new(b.finish()),
            Self::U8(b) => Arc::new(b.finish()),
            Self::I32(b) => Arc::new(b.finish()),
            Self::I64(b) => Arc::new(b.finish()),
            Self::F64(b) => Arc::new(b.finish()),
            Self::Bool(b) => Arc::new(b.finish()),
            Self::Date(b) => Arc::new(b.finish()),
        }
    }
}

/// A Rust type stored in a canonical column: its column type, nullability and how to
/// append it.
pub trait ColumnValue {
    /// Column type.
    const TYPE: ColType;
    /// True for `Option<_>`.
    const NULLABLE: bool = false;
    /// Appends the value to a builder of type [`ColumnValue::TYPE`].
    ///
    /// # Panics
    /// When the builder has another type (a programming error in a table declaration).
    fn append_to(&self, b: &mut ColumnBuilder);
    /// The value at row `i` of an array of type [`ColumnValue::TYPE`]; `None` when null
    /// or when the array has another type.
    fn get(a: &dyn Array, i: usize) -> Option<Self>
    where
        Self: Sized;
}

macro_rules! column_value {
    ($t:ty, $ct:ident, $variant:ident, $arr:ty, |$v:ident| $conv:expr, |$x:ident| $back:expr) => {
        impl ColumnValue for $t {
            const TYPE: ColType = ColType::$ct;
            fn get(a: &dyn Array, i: usize) -> Option<Self> {
                let a = a.as_any().downcast_ref::<$arr>()?;
                if a.is_null(i) {
                    return None;
                }
                let $x = a.value(i);
                Some($back)
            }
            fn append_to(&self, b: &mut ColumnBuilder) {
                let $v = self;
                match b {
                    ColumnBuilder::$variant(b) => b.append_value($conv),
                    other => panic!("{} value appended to {other:?}", stringify!($t)),
                }
            }
        }
    };
}

column_value!(String, Str, Str, StringArray, |v| v.as_str(), |x| x
    .to_string());
// A person id is stored exactly as its text (the same Utf8 column as a `String`).
column_value!(PersonId, Str, Str, StringArray, |v| v.as_str(), |x| {
    PersonId::from(x)
});
column_value!(u8, U8, U8, UInt8Array, |v| *v, |x| x);
column_value!(i32, I32, I32, Int32Array, |v| *v, |x| x);
column_value!(i64, I64, I64, Int64Array, |v| *v, |x| x);
column_value!(f64, F64, F64, Float64Array, |v| *v, |x| x);
column_value!(bool, Bool, Bool, BooleanArray, |v| *v, |x| x);
column_value!(
    NaiveDate,
    Date,
    Date,
    Date32Array,
    |v| date_to_days(*v),
    |x| days_to_date(x)
);

impl<T: ColumnValue> ColumnValue for Option<T> {
    const TYPE: ColType = T::TYPE;
    const NULLABLE: bool = true;
    fn append_to(&self, b: &mut ColumnBuilder) {
        match self {
            Some(v) => v.append_to(b),
            None => b.append_null(),
        }
    }
    fn get(a: &dyn Array, i: usize) -> Option<Self> {
        Some(T::get(a, i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_days_round_trip() {
        let d = NaiveDate::from_ymd_opt(2025, 3, 31).unwrap();
        assert_eq!(
            date_to_days(NaiveDate::from_ymd_opt(1970, 1, 2).unwrap()),
            1
        );
        assert_eq!(days_to_date(date_to_days(d)), d);
        assert_eq!(
            date_to_days(NaiveDate::from_ymd_opt(1969, 12, 31).unwrap()),
            -1
        );
    }
}
