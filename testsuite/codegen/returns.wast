;; Returns: `return` and `br` to the function's frame return where they
;; stand, and small blocks that end in a return are copied into every
;; predecessor that jumps to them (compiler/src/translate/tail.rs). Each
;; function below has several paths into one join block that computes the
;; result, with different values for the join's parameters on each path, so
;; a copy that used the wrong argument, or ran a side effect twice or not at
;; all, changes a result.

(module
  (memory 1)
  (global $count (mut i32) (i32.const 0))

  ;; Three paths meet at the end of $b with different values; the join
  ;; then adds a value defined before the split.
  (func (export "join3") (param $x i32) (result i32)
    (local $base i32)
    (local.set $base (i32.mul (local.get $x) (i32.const 100)))
    (block $b (result i32)
      (drop (br_if $b (i32.const 1) (i32.eq (local.get $x) (i32.const 1))))
      (drop (br_if $b (i32.const 2) (i32.eq (local.get $x) (i32.const 2))))
      (i32.const 3))
    (local.get $base)
    (i32.add))

  ;; `return` in the middle and a fall-through end, both after calls.
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (i32.lt_u (local.get $n) (i32.const 2))
      (then (return (local.get $n))))
    (i32.add
      (call $fib (i32.sub (local.get $n) (i32.const 1)))
      (call $fib (i32.sub (local.get $n) (i32.const 2)))))

  ;; `br 0` at the function's depth from nested blocks is a return; the
  ;; rest of the function must not run on that path.
  (func (export "br-function") (param $x i32) (result i32)
    (block
      (block
        (br_if 1 (i32.eqz (local.get $x)))
        (if (i32.eq (local.get $x) (i32.const 7))
          (then (br 3 (i32.const 700))))))
    (i32.const -1))

  ;; The join adds to a global: it must happen exactly once on each path.
  (func (export "side-effect") (param $x i32) (result i32)
    (local $v i32)
    (block $b
      (if (i32.and (local.get $x) (i32.const 1))
        (then (local.set $v (i32.const 10)) (br $b)))
      (if (i32.and (local.get $x) (i32.const 2))
        (then (local.set $v (i32.const 20)) (br $b)))
      (local.set $v (i32.const 30)))
    (global.set $count (i32.add (global.get $count) (local.get $v)))
    (local.get $v))
  (func (export "stored") (result i32) (global.get $count))

  ;; Several results: the join returns three values, the extra ones through
  ;; the caller's out-pointers, from three paths.
  (func (export "multi") (param $x i32) (result i32 i64 f64)
    (block $b (result i32 i64 f64)
      (br_if $b (i32.const 1) (i64.const 10) (f64.const 1.5)
        (i32.eq (local.get $x) (i32.const 1)))
      (drop) (drop) (drop)
      (if (i32.eq (local.get $x) (i32.const 2))
        (then (return (i32.const 2) (i64.const 20) (f64.const 2.5))))
      (i32.const 3) (i64.const 30) (f64.const 3.5))
    (return))

  ;; br_if and br_table to the function's frame still meet at one exit.
  (func (export "exit-branches") (param $x i32) (result i64)
    (i64.const 5)
    (br_if 0 (i32.eq (local.get $x) (i32.const 0)))
    (drop)
    (block $inner (result i64)
      (i64.const 6)
      (br_table $inner 1 1 (i32.sub (local.get $x) (i32.const 1))))
    (i64.const 100)
    (i64.add))

  ;; A loop whose exit is a small return block.
  (func (export "sum-to") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (i32.add (local.get $s) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i32.mul (local.get $s) (i32.const 2)))

  ;; A trap in the copied block keeps its code.
  (func (export "div-join") (param $x i32) (param $d i32) (result i32)
    (block $b (result i32)
      (drop (br_if $b (i32.const 100) (local.get $x)))
      (i32.const 200))
    (local.get $d)
    (i32.div_u))
)

(assert_return (invoke "join3" (i32.const 1)) (i32.const 101))
(assert_return (invoke "join3" (i32.const 2)) (i32.const 202))
(assert_return (invoke "join3" (i32.const 5)) (i32.const 503))
(assert_return (invoke "fib" (i32.const 0)) (i32.const 0))
(assert_return (invoke "fib" (i32.const 1)) (i32.const 1))
(assert_return (invoke "fib" (i32.const 20)) (i32.const 6765))
(assert_return (invoke "br-function" (i32.const 0)) (i32.const -1))
(assert_return (invoke "br-function" (i32.const 7)) (i32.const 700))
(assert_return (invoke "br-function" (i32.const 8)) (i32.const -1))
(assert_return (invoke "side-effect" (i32.const 1)) (i32.const 10))
(assert_return (invoke "stored") (i32.const 10))
(assert_return (invoke "side-effect" (i32.const 2)) (i32.const 20))
(assert_return (invoke "stored") (i32.const 30))
(assert_return (invoke "side-effect" (i32.const 0)) (i32.const 30))
(assert_return (invoke "stored") (i32.const 60))
(assert_return (invoke "side-effect" (i32.const 3)) (i32.const 10))
(assert_return (invoke "stored") (i32.const 70))
(assert_return (invoke "multi" (i32.const 1)) (i32.const 1) (i64.const 10) (f64.const 1.5))
(assert_return (invoke "multi" (i32.const 2)) (i32.const 2) (i64.const 20) (f64.const 2.5))
(assert_return (invoke "multi" (i32.const 3)) (i32.const 3) (i64.const 30) (f64.const 3.5))
(assert_return (invoke "exit-branches" (i32.const 0)) (i64.const 5))
(assert_return (invoke "exit-branches" (i32.const 1)) (i64.const 106))
(assert_return (invoke "exit-branches" (i32.const 2)) (i64.const 6))
(assert_return (invoke "exit-branches" (i32.const 9)) (i64.const 6))
(assert_return (invoke "sum-to" (i32.const 0)) (i32.const 0))
(assert_return (invoke "sum-to" (i32.const 10)) (i32.const 90))
(assert_return (invoke "div-join" (i32.const 1) (i32.const 7)) (i32.const 14))
(assert_return (invoke "div-join" (i32.const 0) (i32.const 7)) (i32.const 28))
(assert_trap (invoke "div-join" (i32.const 1) (i32.const 0)) "integer divide by zero")
(assert_trap (invoke "div-join" (i32.const 0) (i32.const 0)) "integer divide by zero")
