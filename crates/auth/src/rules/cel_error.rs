//! [`ConditionError`]: why a CEL condition could not decide, described without any value.

#[cfg(feature = "cel")]
use cel::ExecutionError;
#[cfg(feature = "cel")]
use cel::common::ast::operators;

/// Why a CEL condition could not decide a request. The descriptions are built from the
/// expression and from value *types* only, never from values: they are logged, and values are
/// claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConditionError {
    /// A map has no such key (a claim the user lacks, a field of `user` that does not exist).
    #[error("no such key `{0}`")]
    NoSuchKey(String),
    /// A map has no such key, and the key was computed at request time (not shown).
    #[error("no such key (computed at request time, not shown)")]
    NoSuchComputedKey,
    /// A name the environment does not know.
    #[error("undeclared reference `{0}`")]
    Undeclared(String),
    /// An operator or function applied to operand types it does not take.
    #[error("no overload of `{function}` for ({types})")]
    NoOverload {
        /// The operator or function.
        function: String,
        /// The operands' types, comma-separated.
        types: String,
    },
    /// Values of these types cannot be ordered against each other.
    #[error("values of types {0} and {1} cannot be compared")]
    NotComparable(&'static str, &'static str),
    /// A value of an unexpected type.
    #[error("expected {want}, got {got}")]
    UnexpectedType {
        /// The type found.
        got: String,
        /// The type needed.
        want: String,
    },
    /// A value of this type cannot be used where it was (as a map key, an index, a target).
    #[error("a value of type {0} cannot be used there")]
    Unsupported(&'static str),
    /// Division or remainder by zero.
    #[error("division by zero")]
    DivisionByZero,
    /// Integer overflow.
    #[error("integer overflow")]
    Overflow,
    /// A list index out of bounds.
    #[error("index out of bounds")]
    IndexOutOfBounds,
    /// A function failed on its arguments (a bad conversion, an invalid regex).
    #[error("function `{0}` failed")]
    FunctionFailed(String),
    /// The condition evaluated to something other than a bool.
    #[error("the result has type {0}, not bool")]
    NotBool(&'static str),
    /// Any other evaluation error.
    #[error("evaluation error")]
    Other,
}

#[cfg(feature = "cel")]
impl ConditionError {
    /// `e` as a description without values: keys and names only when the expression spells
    /// them (`spelled`), types instead of values.
    #[cold]
    pub(super) fn describe(e: &ExecutionError, spelled: impl Fn(&str) -> bool) -> ConditionError {
        #[allow(deprecated)]
        match e {
            ExecutionError::NoSuchKey(key) if spelled(key) => {
                ConditionError::NoSuchKey(key.to_string())
            }
            ExecutionError::NoSuchKey(_) => ConditionError::NoSuchComputedKey,
            ExecutionError::UndeclaredReference(name) if spelled(name) => {
                ConditionError::Undeclared(name.to_string())
            }
            ExecutionError::NoSuchOverload(o) => ConditionError::NoOverload {
                function: operator_text(o.function()).to_owned(),
                types: o.argument_types().join(", "),
            },
            ExecutionError::UnsupportedBinaryOperator(op, a, b) => ConditionError::NoOverload {
                function: (*op).to_owned(),
                types: format!("{}, {}", value_type(a), value_type(b)),
            },
            ExecutionError::NotSupportedAsMethod { method, target } if spelled(method) => {
                ConditionError::NoOverload {
                    function: method.clone(),
                    types: value_type(target).to_owned(),
                }
            }
            ExecutionError::ValuesNotComparable(a, b) => {
                ConditionError::NotComparable(value_type(a), value_type(b))
            }
            // Both are type names (or a struct type named in the expression).
            ExecutionError::UnexpectedType { got, want } => ConditionError::UnexpectedType {
                got: got.clone(),
                want: want.clone(),
            },
            ExecutionError::UnsupportedTargetType { target } => {
                ConditionError::Unsupported(value_type(target))
            }
            ExecutionError::UnsupportedKeyType(v)
            | ExecutionError::UnsupportedMapIndex(v)
            | ExecutionError::UnsupportedListIndex(v)
            | ExecutionError::UnsupportedIndex(v, _) => ConditionError::Unsupported(value_type(v)),
            ExecutionError::DivisionByZero(_) | ExecutionError::RemainderByZero(_) => {
                ConditionError::DivisionByZero
            }
            ExecutionError::Overflow(..) => ConditionError::Overflow,
            ExecutionError::IndexOutOfBounds(_) => ConditionError::IndexOutOfBounds,
            // The name is the function's; the message may quote an argument (a claim).
            ExecutionError::FunctionError { function, .. } if spelled(function) => {
                ConditionError::FunctionFailed(function.clone())
            }
            _ => ConditionError::Other,
        }
    }
}

#[cfg(feature = "cel")]
/// A value's CEL type name (never the value).
pub(super) fn value_type(v: &cel::Value) -> &'static str {
    match v.type_of() {
        cel::objects::ValueType::List => "list",
        cel::objects::ValueType::Map => "map",
        cel::objects::ValueType::Function => "function",
        cel::objects::ValueType::Int => "int",
        cel::objects::ValueType::UInt => "uint",
        cel::objects::ValueType::Float => "double",
        cel::objects::ValueType::String => "string",
        cel::objects::ValueType::Bytes => "bytes",
        cel::objects::ValueType::Bool => "bool",
        cel::objects::ValueType::Duration => "duration",
        cel::objects::ValueType::Timestamp => "timestamp",
        cel::objects::ValueType::Opaque => "opaque value",
        cel::objects::ValueType::Null => "null",
        cel::objects::ValueType::Struct => "struct",
    }
}

#[cfg(feature = "cel")]
/// An operator as written (`+`, `in`) rather than cel's internal name (`_+_`, `@in`).
pub(super) fn operator_text(name: &str) -> &str {
    match name {
        operators::IN => "in",
        operators::INDEX => "[]",
        operators::OPT_INDEX => "[?]",
        operators::OPT_SELECT => ".?",
        operators::CONDITIONAL => "? :",
        operators::LOGICAL_NOT => "!",
        operators::NEGATE => "-",
        _ => name
            .strip_prefix('_')
            .and_then(|n| n.strip_suffix('_'))
            .unwrap_or(name),
    }
}
