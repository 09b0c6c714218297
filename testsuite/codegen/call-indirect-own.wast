;; `call_indirect` in a module whose tables can only hold its own functions
;; (compiler/src/module.rs, `funcrefs_are_own`) passes its own vmctx and
;; skips handing over the stack limit. Callees must still see their own
;; instance's state, recursion through the table must still run into the
;; stack limit, and a module whose table other instances can fill must
;; keep calling with the callee's vmctx.

(module $own
  (type $t (func (param i32) (result i32)))
  (table 4 funcref)
  (memory 1)
  (global $g (mut i32) (i32.const 100))
  (elem (i32.const 0) $get $recurse $bump)
  (data (i32.const 16) "\2a\00\00\00")
  ;; Reads the instance's global and memory.
  (func $get (param i32) (result i32)
    (i32.add (global.get $g) (i32.load (local.get 0))))
  ;; Calls itself through the table, forever.
  (func $recurse (param i32) (result i32)
    (call_indirect (type $t) (local.get 0) (i32.const 1)))
  (func $bump (param i32) (result i32)
    (global.set $g (i32.add (global.get $g) (local.get 0)))
    (global.get $g))
  (func (export "call") (param $i i32) (param $x i32) (result i32)
    (call_indirect (type $t) (local.get $x) (local.get $i)))
)
(assert_return (invoke "call" (i32.const 0) (i32.const 16)) (i32.const 142))
(assert_return (invoke "call" (i32.const 2) (i32.const 8)) (i32.const 108))
(assert_return (invoke "call" (i32.const 0) (i32.const 16)) (i32.const 150))
(assert_exhaustion (invoke "call" (i32.const 1) (i32.const 0)) "call stack exhausted")
;; The instance still works after the exhaustion.
(assert_return (invoke "call" (i32.const 0) (i32.const 16)) (i32.const 150))
(assert_trap (invoke "call" (i32.const 3) (i32.const 0)) "uninitialized element")
(assert_trap (invoke "call" (i32.const 4) (i32.const 0)) "undefined element")

;; A table that other instances fill: calls keep the callee's vmctx.
(module $caller
  (type $t (func (param i32) (result i32)))
  (table (export "table") 2 funcref)
  (global $g (mut i32) (i32.const 1))
  (func $mine (param i32) (result i32) (i32.add (global.get $g) (local.get 0)))
  (elem (i32.const 0) $mine)
  (func (export "call") (param $i i32) (param $x i32) (result i32)
    (call_indirect (type $t) (local.get $x) (local.get $i)))
)
(register "caller" $caller)
(module $filler
  (type $t (func (param i32) (result i32)))
  (import "caller" "table" (table 2 funcref))
  (global $g (mut i32) (i32.const 1000))
  (func $theirs (param i32) (result i32) (i32.add (global.get $g) (local.get 0)))
  (elem (i32.const 1) $theirs)
)
(assert_return (invoke $caller "call" (i32.const 0) (i32.const 5)) (i32.const 6))
(assert_return (invoke $caller "call" (i32.const 1) (i32.const 5)) (i32.const 1005))
