use cel::ExecutionError;
use cel::common::ast::{CallExpr, EntryExpr, Expr, IdedExpr, ListExpr, LiteralValue, operators};
use cel::common::types::{CelBool, CelDouble, CelInt, CelString, CelUInt, Kind};

use super::cel::cel_env;
use super::cel_error::operator_text;

/// Why a condition is refused.
pub(super) enum Refusal {
    /// An identifier that is no variable, macro variable or type name.
    UnknownVariable(String),
    /// A type error or a result that is never a bool.
    Type(String),
}

/// A sub-expression's type, as far as the check can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Bool,
    Int,
    UInt,
    Double,
    String,
    Bytes,
    Null,
    List,
    Map,
    Type,
    /// Not a bool, otherwise unknown (arithmetic on operands of unknown types).
    NotBool,
    /// Unknown (a claim, a macro variable, most function results).
    Dyn,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Bool => "a bool",
            Ty::Int => "an int",
            Ty::UInt => "a uint",
            Ty::Double => "a double",
            Ty::String => "a string",
            Ty::Bytes => "bytes",
            Ty::Null => "null",
            Ty::List => "a list",
            Ty::Map => "a map",
            Ty::Type => "a type",
            Ty::NotBool => "an arithmetic result",
            Ty::Dyn => "a value",
        }
    }

    fn known(self) -> bool {
        !matches!(self, Ty::NotBool | Ty::Dyn)
    }

    fn may_be_bool(self) -> bool {
        matches!(self, Ty::Bool | Ty::Dyn)
    }

    /// Types whose values can be equal share a class: CEL compares numbers across int,
    /// uint and double.
    fn equality_class(self) -> Ty {
        match self {
            Ty::UInt | Ty::Double => Ty::Int,
            t => t,
        }
    }

    fn of_kind(kind: Kind) -> Ty {
        match kind {
            Kind::Boolean => Ty::Bool,
            Kind::Int => Ty::Int,
            Kind::UInt => Ty::UInt,
            Kind::Double => Ty::Double,
            Kind::String => Ty::String,
            Kind::Bytes => Ty::Bytes,
            Kind::NullType => Ty::Null,
            Kind::List => Ty::List,
            Kind::Map => Ty::Map,
            Kind::Type => Ty::Type,
            _ => Ty::Dyn,
        }
    }

    /// An expression of this type for cel to try an operation on; `None` when unknown.
    fn sample(self) -> Option<Expr> {
        let literal = |l| Some(Expr::Literal(l));
        match self {
            Ty::Bool => literal(LiteralValue::Boolean(CelBool::from(true))),
            // One, not zero: no division by zero.
            Ty::Int => literal(LiteralValue::Int(CelInt::from(1))),
            Ty::UInt => literal(LiteralValue::UInt(CelUInt::from(1))),
            Ty::Double => literal(LiteralValue::Double(CelDouble::from(1.0))),
            Ty::String => literal(LiteralValue::String(CelString::from("a"))),
            Ty::Bytes => literal(LiteralValue::Bytes(cel::common::types::CelBytes::from(
                b"a".as_slice(),
            ))),
            Ty::Null => literal(LiteralValue::Null),
            Ty::List => Some(Expr::List(ListExpr::new(Vec::new()))),
            Ty::Map => Some(Expr::Map(Default::default())),
            Ty::Type => Some(Expr::Ident("int".to_owned())),
            Ty::NotBool | Ty::Dyn => None,
        }
    }
}

fn ided(expr: Expr) -> IdedExpr {
    IdedExpr { id: 0, expr }
}

/// The root of a qualified name `a.b.c` (`a`), when `e` spells one.
fn qualified_root(e: &IdedExpr) -> Option<&str> {
    match &e.expr {
        Expr::Ident(name) => Some(name),
        Expr::Select(s) if !s.test => qualified_root(&s.operand),
        _ => None,
    }
}

/// Whether an error says the operands' types are wrong (as opposed to their values).
fn is_type_error(e: &ExecutionError) -> bool {
    matches!(
        e,
        ExecutionError::NoSuchOverload(_)
            | ExecutionError::UnsupportedBinaryOperator(..)
            | ExecutionError::ValuesNotComparable(..)
            | ExecutionError::NotSupportedAsMethod { .. }
            | ExecutionError::UnsupportedTargetType { .. }
            | ExecutionError::UnexpectedType { .. }
            | ExecutionError::InvalidArgumentCount { .. }
            | ExecutionError::MissingArgumentOrTarget
    )
}

/// What functions return whatever their arguments, when cel cannot be asked.
fn result_of(function: &str) -> Ty {
    match function {
        operators::LESS
        | operators::LESS_EQUALS
        | operators::GREATER
        | operators::GREATER_EQUALS
        | operators::IN
        | "startsWith"
        | "endsWith"
        | "contains"
        | "matches" => Ty::Bool,
        "size" => Ty::Int,
        operators::ADD
        | operators::SUBSTRACT
        | operators::MULTIPLY
        | operators::DIVIDE
        | operators::MODULO
        | operators::NEGATE => Ty::NotBool,
        _ => Ty::Dyn,
    }
}

struct Checker<'e> {
    /// Names bound by the enclosing comprehensions, innermost last, with their types.
    scope: Vec<(&'e str, Ty)>,
    /// A context without variables: cel resolves type names and calls in it.
    probe: cel::Context<'static, 'static>,
}

/// Refuses `e` if it can never evaluate to a bool, or names something that does not exist.
pub(super) fn condition(e: &IdedExpr) -> Result<(), Refusal> {
    let mut checker = Checker {
        scope: Vec::new(),
        probe: cel::Context::with_env(cel_env()),
    };
    let ty = checker.check(e)?;
    if ty.may_be_bool() {
        Ok(())
    } else {
        Err(Refusal::Type(format!(
            "it yields {}, never a bool",
            ty.name()
        )))
    }
}

impl<'e> Checker<'e> {
    fn bound(&self, name: &str) -> Option<Ty> {
        if let Some((_, ty)) = self.scope.iter().rev().find(|(n, _)| *n == name) {
            return Some(*ty);
        }
        match name {
            "method" | "path" | "permission" => Some(Ty::String),
            "user" | "claims" => Some(Ty::Map),
            _ => None,
        }
    }

    /// What cel makes of `expr` with no variables: its type, or its error.
    fn resolve(&self, expr: &IdedExpr) -> Result<Ty, ExecutionError> {
        cel::Value::resolve_val(expr, &self.probe)
            .map(|v| Ty::of_kind(v.as_ref().get_type().kind()))
    }

    fn check(&mut self, e: &'e IdedExpr) -> Result<Ty, Refusal> {
        match &e.expr {
            Expr::Unspecified => Ok(Ty::Dyn),
            Expr::Literal(l) => Ok(match l {
                LiteralValue::Boolean(_) => Ty::Bool,
                LiteralValue::Bytes(_) => Ty::Bytes,
                LiteralValue::Double(_) => Ty::Double,
                LiteralValue::Int(_) => Ty::Int,
                LiteralValue::Null => Ty::Null,
                LiteralValue::String(_) => Ty::String,
                LiteralValue::UInt(_) => Ty::UInt,
            }),
            Expr::Ident(name) => match self.bound(name) {
                Some(ty) => Ok(ty),
                // Type names (`int`, `map`) are the only other identifiers cel resolves.
                None => self
                    .resolve(e)
                    .map_err(|_| Refusal::UnknownVariable(name.clone())),
            },
            Expr::Select(s) => {
                if !s.test
                    && let Some(root) = qualified_root(e)
                    && self.bound(root).is_none()
                {
                    // `a.b` on no variable: only a qualified type name would resolve.
                    return self
                        .resolve(e)
                        .map_err(|_| Refusal::UnknownVariable(root.to_owned()));
                }
                let operand = self.check(&s.operand)?;
                let is_user = matches!(&s.operand.expr, Expr::Ident(n) if n == "user")
                    && !self.scope.iter().any(|(n, _)| *n == "user");
                match operand {
                    _ if s.test && (operand == Ty::Map || !operand.known()) => Ok(Ty::Bool),
                    Ty::Map if is_user => match s.field.as_str() {
                        "id" | "provider" => Ok(Ty::String),
                        "claims" => Ok(Ty::Map),
                        f => Err(Refusal::Type(format!(
                            "`user` has no field `{f}`: its fields are id, provider and claims (claims are `claims.{f}`)"
                        ))),
                    },
                    Ty::Map | Ty::Dyn | Ty::NotBool => Ok(Ty::Dyn),
                    t => Err(Refusal::Type(format!(
                        "{} has no fields, so `.{}` (or has()) always fails",
                        t.name(),
                        s.field
                    ))),
                }
            }
            Expr::Call(c) => self.call(c),
            Expr::List(l) => {
                for e in &l.elements {
                    self.check(e)?;
                }
                Ok(Ty::List)
            }
            Expr::Map(m) => {
                self.entries(&m.entries)?;
                Ok(Ty::Map)
            }
            Expr::Struct(s) => {
                self.entries(&s.entries)?;
                Ok(Ty::Dyn)
            }
            Expr::Comprehension(c) => {
                let range = self.check(&c.iter_range)?;
                if range.known() && !matches!(range, Ty::List | Ty::Map) {
                    return Err(Refusal::Type(format!(
                        "a macro iterates over {}; only lists and maps can be iterated",
                        range.name()
                    )));
                }
                let accu = self.check(&c.accu_init)?;
                let depth = self.scope.len();
                self.scope.push((&c.accu_var, accu));
                self.scope.push((&c.iter_var, Ty::Dyn));
                if let Some(v) = &c.iter_var2 {
                    self.scope.push((v, Ty::Dyn));
                }
                let result = self
                    .check(&c.loop_cond)
                    .and_then(|_| self.check(&c.loop_step))
                    .and_then(|_| self.check(&c.result));
                self.scope.truncate(depth);
                result
            }
        }
    }

    fn entries(&mut self, entries: &'e [cel::common::ast::IdedEntryExpr]) -> Result<(), Refusal> {
        for entry in entries {
            match &entry.expr {
                EntryExpr::StructField(f) => {
                    self.check(&f.value)?;
                }
                EntryExpr::MapEntry(m) => {
                    self.check(&m.key)?;
                    self.check(&m.value)?;
                }
            }
        }
        Ok(())
    }

    fn call(&mut self, c: &'e CallExpr) -> Result<Ty, Refusal> {
        let f = c.func_name.as_str();
        let op = operator_text(f);
        if let Some(target) = &c.target
            && let Some(root) = qualified_root(target)
            && self.bound(root).is_none()
            && self.resolve(target).is_err()
        {
            // `ns.f(x)` on no variable or type name: only a namespaced function
            // (`optional.of`) resolves.
            for a in &c.args {
                self.check(a)?;
            }
            let call = CallExpr {
                func_name: c.func_name.clone(),
                target: Some(target.clone()),
                args: c
                    .args
                    .iter()
                    .map(|_| ided(Expr::Literal(LiteralValue::Null)))
                    .collect(),
            };
            return match self.resolve(&ided(Expr::Call(call))) {
                Err(ExecutionError::UndeclaredReference(_)) => {
                    Err(Refusal::UnknownVariable(root.to_owned()))
                }
                _ => Ok(Ty::Dyn),
            };
        }
        let target = match &c.target {
            Some(t) => Some(self.check(t)?),
            None => None,
        };
        let args = c
            .args
            .iter()
            .map(|a| self.check(a))
            .collect::<Result<Vec<_>, _>>()?;
        match (f, args.as_slice()) {
            (operators::LOGICAL_AND | operators::LOGICAL_OR | operators::LOGICAL_NOT, _) => {
                if let Some(t) = args.iter().find(|t| !t.may_be_bool()) {
                    return Err(Refusal::Type(format!(
                        "`{op}` takes bools, not {}",
                        t.name()
                    )));
                }
                return Ok(Ty::Bool);
            }
            (operators::NOT_STRICTLY_FALSE, _) => return Ok(Ty::Bool),
            (operators::CONDITIONAL, [cond, a, b]) => {
                if !cond.may_be_bool() {
                    return Err(Refusal::Type(format!(
                        "the condition of `? :` is {}, not a bool",
                        cond.name()
                    )));
                }
                return Ok(if a == b {
                    *a
                } else if !a.may_be_bool() && !b.may_be_bool() {
                    Ty::NotBool
                } else {
                    Ty::Dyn
                });
            }
            (operators::EQUALS | operators::NOT_EQUALS, [a, b]) => {
                if a.known() && b.known() && a.equality_class() != b.equality_class() {
                    return Err(Refusal::Type(format!(
                        "`{op}` compares {} with {}: they are never equal",
                        a.name(),
                        b.name()
                    )));
                }
                return Ok(Ty::Bool);
            }
            _ => {}
        }
        let operands: Vec<Ty> = target.into_iter().chain(args.iter().copied()).collect();
        // Every operand's type known: cel says whether an overload takes them, and what it
        // returns; otherwise cel is asked with nulls only whether the function exists.
        let typed: Option<Vec<Expr>> = operands.iter().map(|t| t.sample()).collect();
        let (samples, typed) = match typed {
            Some(samples) => (samples, true),
            None => (
                operands
                    .iter()
                    .map(|_| Expr::Literal(LiteralValue::Null))
                    .collect(),
                false,
            ),
        };
        let mut samples = samples.into_iter().map(ided);
        let call = CallExpr {
            func_name: c.func_name.clone(),
            target: match target {
                Some(_) => samples.next().map(Box::new),
                None => None,
            },
            args: samples.collect(),
        };
        match self.resolve(&ided(Expr::Call(call))) {
            Err(ExecutionError::UndeclaredReference(name)) if name.as_str() == f => {
                Err(Refusal::Type(if target.is_some() {
                    format!("no method `{f}`")
                } else {
                    format!("no function `{f}`")
                }))
            }
            Err(e) if typed && is_type_error(&e) => {
                let types: Vec<&str> = operands.iter().map(|t| t.name()).collect();
                Err(Refusal::Type(format!(
                    "`{op}` does not apply to {}",
                    types.join(" and ")
                )))
            }
            Ok(ty) if typed => Ok(ty),
            // A value-dependent failure (division by zero, a bad conversion), or unknown
            // operand types.
            _ => Ok(result_of(f)),
        }
    }
}
