;; `eqz` of a float comparison (compiler/src/translate/numeric.rs, `eqz`) is
;; compiled as the complementary comparison: "not less than" is "unordered
;; or greater than or equal", so a NaN operand makes every negated ordered
;; comparison true and a negated `ne` false. Each test reads the result as a
;; value, through `br_if` and through `select`, since each lowers on its own
;; path.

(module
  (func $f32_value (export "f32_value") (param $op i32) (param $a f32) (param $b f32) (result i32)
    (block $ne (block $ge (block $le (block $gt (block $lt (block $eq
      (br_table $eq $lt $gt $le $ge $ne (local.get $op)))
      (return (i32.eqz (f32.eq (local.get $a) (local.get $b)))))
      (return (i32.eqz (f32.lt (local.get $a) (local.get $b)))))
      (return (i32.eqz (f32.gt (local.get $a) (local.get $b)))))
      (return (i32.eqz (f32.le (local.get $a) (local.get $b)))))
      (return (i32.eqz (f32.ge (local.get $a) (local.get $b)))))
    (i32.eqz (f32.ne (local.get $a) (local.get $b))))

  (func (export "f64_branch") (param $op i32) (param $a f64) (param $b f64) (result i32)
    (block $taken
      (block $ne (block $ge (block $le (block $gt (block $lt (block $eq
        (br_table $eq $lt $gt $le $ge $ne (local.get $op)))
        (br_if $taken (i32.eqz (f64.eq (local.get $a) (local.get $b))))
        (return (i32.const 0)))
        (br_if $taken (i32.eqz (f64.lt (local.get $a) (local.get $b))))
        (return (i32.const 0)))
        (br_if $taken (i32.eqz (f64.gt (local.get $a) (local.get $b))))
        (return (i32.const 0)))
        (br_if $taken (i32.eqz (f64.le (local.get $a) (local.get $b))))
        (return (i32.const 0)))
        (br_if $taken (i32.eqz (f64.ge (local.get $a) (local.get $b))))
        (return (i32.const 0)))
      (br_if $taken (i32.eqz (f64.ne (local.get $a) (local.get $b))))
      (return (i32.const 0)))
    (i32.const 1))

  ;; select picks 10 when the negated comparison holds.
  (func (export "f64_select_lt") (param $a f64) (param $b f64) (result i32)
    (select (i32.const 10) (i32.const 20) (i32.eqz (f64.lt (local.get $a) (local.get $b)))))
  (func (export "f32_select_ge") (param $a f32) (param $b f32) (result i32)
    (select (i32.const 10) (i32.const 20) (i32.eqz (f32.ge (local.get $a) (local.get $b)))))

  ;; Twice negated is the comparison itself, NaN included.
  (func (export "f64_twice_lt") (param $a f64) (param $b f64) (result i32)
    (i32.eqz (i32.eqz (f64.lt (local.get $a) (local.get $b)))))

  ;; The guard clang writes before a trapping conversion: NaN and values out
  ;; of range take the default instead of trapping.
  (func (export "guarded_trunc") (param $x f32) (result i32)
    (block $big (result i32)
      (br_if $big (i32.const -2147483648)
        (i32.eqz (f32.lt (f32.abs (local.get $x)) (f32.const 0x1p+31))))
      (drop)
      (return (i32.trunc_f32_s (local.get $x)))))
)

;; op: 0 eq, 1 lt, 2 gt, 3 le, 4 ge, 5 ne. Results are 1 - (a op b).
(assert_return (invoke "f32_value" (i32.const 0) (f32.const 1) (f32.const 1)) (i32.const 0))
(assert_return (invoke "f32_value" (i32.const 0) (f32.const 1) (f32.const 2)) (i32.const 1))
(assert_return (invoke "f32_value" (i32.const 0) (f32.const nan) (f32.const nan)) (i32.const 1))
(assert_return (invoke "f32_value" (i32.const 1) (f32.const 1) (f32.const 2)) (i32.const 0))
(assert_return (invoke "f32_value" (i32.const 1) (f32.const 2) (f32.const 1)) (i32.const 1))
(assert_return (invoke "f32_value" (i32.const 1) (f32.const 1) (f32.const 1)) (i32.const 1))
(assert_return (invoke "f32_value" (i32.const 1) (f32.const nan) (f32.const 1)) (i32.const 1))
(assert_return (invoke "f32_value" (i32.const 1) (f32.const 1) (f32.const nan)) (i32.const 1))
(assert_return (invoke "f32_value" (i32.const 2) (f32.const 2) (f32.const 1)) (i32.const 0))
(assert_return (invoke "f32_value" (i32.const 2) (f32.const 1) (f32.const 1)) (i32.const 1))
(assert_return (invoke "f32_value" (i32.const 2) (f32.const nan) (f32.const 1)) (i32.const 1))
(assert_return (invoke "f32_value" (i32.const 3) (f32.const 1) (f32.const 1)) (i32.const 0))
(assert_return (invoke "f32_value" (i32.const 3) (f32.const 2) (f32.const 1)) (i32.const 1))
(assert_return (invoke "f32_value" (i32.const 3) (f32.const 1) (f32.const nan)) (i32.const 1))
(assert_return (invoke "f32_value" (i32.const 4) (f32.const 1) (f32.const 1)) (i32.const 0))
(assert_return (invoke "f32_value" (i32.const 4) (f32.const 1) (f32.const 2)) (i32.const 1))
(assert_return (invoke "f32_value" (i32.const 4) (f32.const nan) (f32.const nan)) (i32.const 1))
(assert_return (invoke "f32_value" (i32.const 5) (f32.const 1) (f32.const 1)) (i32.const 1))
(assert_return (invoke "f32_value" (i32.const 5) (f32.const 1) (f32.const 2)) (i32.const 0))
(assert_return (invoke "f32_value" (i32.const 5) (f32.const nan) (f32.const 1)) (i32.const 0))
(assert_return (invoke "f32_value" (i32.const 5) (f32.const -0) (f32.const 0)) (i32.const 1))

(assert_return (invoke "f64_branch" (i32.const 0) (f64.const 1) (f64.const 1)) (i32.const 0))
(assert_return (invoke "f64_branch" (i32.const 0) (f64.const -0) (f64.const 0)) (i32.const 0))
(assert_return (invoke "f64_branch" (i32.const 0) (f64.const nan) (f64.const 1)) (i32.const 1))
(assert_return (invoke "f64_branch" (i32.const 1) (f64.const 1) (f64.const 2)) (i32.const 0))
(assert_return (invoke "f64_branch" (i32.const 1) (f64.const 2) (f64.const 2)) (i32.const 1))
(assert_return (invoke "f64_branch" (i32.const 1) (f64.const 1) (f64.const nan)) (i32.const 1))
(assert_return (invoke "f64_branch" (i32.const 2) (f64.const 3) (f64.const 2)) (i32.const 0))
(assert_return (invoke "f64_branch" (i32.const 2) (f64.const 2) (f64.const 3)) (i32.const 1))
(assert_return (invoke "f64_branch" (i32.const 2) (f64.const nan) (f64.const nan)) (i32.const 1))
(assert_return (invoke "f64_branch" (i32.const 3) (f64.const 2) (f64.const 2)) (i32.const 0))
(assert_return (invoke "f64_branch" (i32.const 3) (f64.const 3) (f64.const 2)) (i32.const 1))
(assert_return (invoke "f64_branch" (i32.const 3) (f64.const nan) (f64.const 2)) (i32.const 1))
(assert_return (invoke "f64_branch" (i32.const 4) (f64.const 2) (f64.const 2)) (i32.const 0))
(assert_return (invoke "f64_branch" (i32.const 4) (f64.const 2) (f64.const 3)) (i32.const 1))
(assert_return (invoke "f64_branch" (i32.const 4) (f64.const 2) (f64.const nan)) (i32.const 1))
(assert_return (invoke "f64_branch" (i32.const 5) (f64.const 2) (f64.const 2)) (i32.const 1))
(assert_return (invoke "f64_branch" (i32.const 5) (f64.const 2) (f64.const 3)) (i32.const 0))
(assert_return (invoke "f64_branch" (i32.const 5) (f64.const nan) (f64.const nan)) (i32.const 0))

(assert_return (invoke "f64_select_lt" (f64.const 1) (f64.const 2)) (i32.const 20))
(assert_return (invoke "f64_select_lt" (f64.const 2) (f64.const 1)) (i32.const 10))
(assert_return (invoke "f64_select_lt" (f64.const nan) (f64.const 1)) (i32.const 10))
(assert_return (invoke "f32_select_ge" (f32.const 2) (f32.const 1)) (i32.const 20))
(assert_return (invoke "f32_select_ge" (f32.const 1) (f32.const 2)) (i32.const 10))
(assert_return (invoke "f32_select_ge" (f32.const 1) (f32.const nan)) (i32.const 10))

(assert_return (invoke "f64_twice_lt" (f64.const 1) (f64.const 2)) (i32.const 1))
(assert_return (invoke "f64_twice_lt" (f64.const 2) (f64.const 1)) (i32.const 0))
(assert_return (invoke "f64_twice_lt" (f64.const nan) (f64.const 1)) (i32.const 0))

(assert_return (invoke "guarded_trunc" (f32.const 100.75)) (i32.const 100))
(assert_return (invoke "guarded_trunc" (f32.const -0x1p+31)) (i32.const -2147483648))
(assert_return (invoke "guarded_trunc" (f32.const 0x1p+31)) (i32.const -2147483648))
(assert_return (invoke "guarded_trunc" (f32.const nan)) (i32.const -2147483648))
(assert_return (invoke "guarded_trunc" (f32.const -inf)) (i32.const -2147483648))
(assert_return (invoke "guarded_trunc" (f32.const -2147483520)) (i32.const -2147483520))
