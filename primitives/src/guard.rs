//! The `with` scopes of the lock-like primitives, which all behave alike.

/// For a guard struct `$guard { $field: &$prim }`: `exit()` (what Python's `__exit__` would
/// raise), `Debug`, and a `Drop` that calls `$field.release()` and drops its error (a
/// destructor cannot return one). `$new` is how the doc example of `exit()` makes a
/// `$prim` (`"Lock::new()"`).
macro_rules! with_scope {
    ($guard:ident, $field:ident, $new:literal) => {
        impl<B: $crate::backend::Backend> $guard<'_, B> {
            /// Leave the `with` block now, returning what `__exit__` would raise.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let x = lockproof::threading::", $new, ";")]
            /// let g = x.lock();
            /// assert_eq!(g.exit(), Ok(())); // released here, nothing raised
            /// ```
            pub fn exit(self) -> $crate::Result<()> {
                let inner = self.$field;
                std::mem::forget(self);
                inner.release()
            }
        }

        impl<B: $crate::backend::Backend> std::fmt::Debug for $guard<'_, B> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($guard))
                    .field(stringify!($field), self.$field)
                    .finish()
            }
        }

        impl<B: $crate::backend::Backend> Drop for $guard<'_, B> {
            fn drop(&mut self) {
                let _ = self.$field.release();
            }
        }
    };
}
pub(crate) use with_scope;
