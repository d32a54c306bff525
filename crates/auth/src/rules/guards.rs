use cel::common::ast::{EntryExpr, Expr, IdedExpr, LiteralValue, operators};

/// A path of keys below `claims`.
type Path<'e> = Vec<&'e str>;

struct Walker<'e> {
    /// Comprehension variables in scope (they may shadow `claims` or `user`).
    scope: Vec<&'e str>,
    out: Vec<Path<'e>>,
}

pub(super) fn unguarded_claims(e: &IdedExpr) -> Vec<String> {
    let mut w = Walker {
        scope: Vec::new(),
        out: Vec::new(),
    };
    w.walk(e, &[]);
    let mut seen = Vec::new();
    for p in w.out {
        let text = p.join(".");
        if !seen.contains(&text) {
            seen.push(text);
        }
    }
    seen
}

impl<'e> Walker<'e> {
    fn free(&self, name: &str) -> bool {
        !self.scope.contains(&name)
    }

    /// The path below `claims` that `e` reads, when it is `claims`, `user.claims` or a chain
    /// of fields and literal string keys on them.
    fn path(&self, e: &'e IdedExpr) -> Option<Path<'e>> {
        match &e.expr {
            Expr::Ident(n) if n == "claims" && self.free("claims") => Some(Vec::new()),
            Expr::Select(s) if !s.test => match &s.operand.expr {
                Expr::Ident(n) if n == "user" && s.field == "claims" && self.free("user") => {
                    Some(Vec::new())
                }
                _ => self.path(&s.operand).map(|mut p| {
                    p.push(&s.field);
                    p
                }),
            },
            Expr::Call(c) if c.func_name == operators::INDEX && c.args.len() == 2 => {
                match &c.args[1].expr {
                    Expr::Literal(LiteralValue::String(k)) => self.path(&c.args[0]).map(|mut p| {
                        p.push(k.inner());
                        p
                    }),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Paths known present when `e` is true (`positive`) or false: `e` cannot be that
    /// without them, and evaluates to the other bool (not an error) when one is missing.
    fn facts(&self, e: &'e IdedExpr, positive: bool) -> Vec<Path<'e>> {
        match &e.expr {
            Expr::Select(s) if s.test && positive => self
                .path(&s.operand)
                .map(|mut p| {
                    p.push(&s.field);
                    vec![p]
                })
                .unwrap_or_default(),
            Expr::Call(c) if c.target.is_none() => match (c.func_name.as_str(), &c.args[..]) {
                (operators::IN, [key, map]) if positive => match &key.expr {
                    Expr::Literal(LiteralValue::String(k)) => self
                        .path(map)
                        .map(|mut p| {
                            p.push(k.inner());
                            vec![p]
                        })
                        .unwrap_or_default(),
                    _ => Vec::new(),
                },
                (operators::LOGICAL_NOT, [a]) => self.facts(a, !positive),
                (operators::LOGICAL_AND, [a, b]) if positive => {
                    let mut f = self.facts(a, true);
                    f.extend(self.facts(b, true));
                    f
                }
                (operators::LOGICAL_OR, [a, b]) if !positive => {
                    let mut f = self.facts(a, false);
                    f.extend(self.facts(b, false));
                    f
                }
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    fn read(&mut self, path: Path<'e>, guards: &[Path<'e>]) {
        if !guards.iter().any(|g| g.starts_with(&path)) {
            self.out.push(path);
        }
    }

    fn walk(&mut self, e: &'e IdedExpr, guards: &[Path<'e>]) {
        let with = |extra: Vec<Path<'e>>| -> Vec<Path<'e>> {
            guards.iter().cloned().chain(extra).collect()
        };
        match &e.expr {
            Expr::Select(s) => {
                if !s.test
                    && let Some(mut p) = self.path(&s.operand)
                {
                    p.push(&s.field);
                    self.read(p, guards);
                }
                self.walk(&s.operand, guards);
            }
            Expr::Call(c) => {
                match (c.func_name.as_str(), &c.args[..]) {
                    (operators::INDEX, [_, _]) => {
                        if let Some(p) = self.path(e)
                            && !p.is_empty()
                        {
                            self.read(p, guards);
                        }
                    }
                    (operators::LOGICAL_AND, [a, b]) if c.target.is_none() => {
                        let (fa, fb) = (self.facts(a, true), self.facts(b, true));
                        self.walk(a, &with(fb));
                        self.walk(b, &with(fa));
                        return;
                    }
                    (operators::LOGICAL_OR, [a, b]) if c.target.is_none() => {
                        let (fa, fb) = (self.facts(a, false), self.facts(b, false));
                        self.walk(a, &with(fb));
                        self.walk(b, &with(fa));
                        return;
                    }
                    (operators::CONDITIONAL, [cond, t, f]) if c.target.is_none() => {
                        self.walk(cond, guards);
                        let (ft, ff) = (self.facts(cond, true), self.facts(cond, false));
                        self.walk(t, &with(ft));
                        self.walk(f, &with(ff));
                        return;
                    }
                    _ => {}
                }
                if let Some(t) = &c.target {
                    self.walk(t, guards);
                }
                for a in &c.args {
                    self.walk(a, guards);
                }
            }
            Expr::List(l) => l.elements.iter().for_each(|a| self.walk(a, guards)),
            Expr::Map(m) => self.entries(&m.entries, guards),
            Expr::Struct(s) => self.entries(&s.entries, guards),
            Expr::Comprehension(c) => {
                self.walk(&c.iter_range, guards);
                self.walk(&c.accu_init, guards);
                let depth = self.scope.len();
                self.scope.push(&c.accu_var);
                self.scope.push(&c.iter_var);
                if let Some(v) = &c.iter_var2 {
                    self.scope.push(v);
                }
                self.walk(&c.loop_cond, guards);
                self.walk(&c.loop_step, guards);
                self.walk(&c.result, guards);
                self.scope.truncate(depth);
            }
            Expr::Unspecified | Expr::Literal(_) | Expr::Ident(_) => {}
        }
    }

    fn entries(&mut self, entries: &'e [cel::common::ast::IdedEntryExpr], guards: &[Path<'e>]) {
        for entry in entries {
            match &entry.expr {
                EntryExpr::StructField(f) => self.walk(&f.value, guards),
                EntryExpr::MapEntry(m) => {
                    self.walk(&m.key, guards);
                    self.walk(&m.value, guards);
                }
            }
        }
    }
}
