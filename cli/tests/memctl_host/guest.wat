;; The guest of memctl_host.c: one virtual memory of 16 pages and the
;; memory-control operations, exported for the host to drive.
(module
  (import "memory-control" "map" (func $map (param i32 i32 i32) (result i32)))
  (import "memory-control" "unmap" (func $unmap (param i32 i32)))
  (import "memory-control" "protect" (func $protect (param i32 i32 i32)))
  (import "memory-control" "map_handle" (func $map_handle (param i32 i32 i32 i32 i64) (result i32)))
  (memory (export "mem") 16 16)
  (@custom "memory-control" "memory 0 virtual")
  (func (export "map") (param i32 i32 i32) (result i32) (call $map (local.get 0) (local.get 1) (local.get 2)))
  (func (export "unmap") (param i32 i32) (call $unmap (local.get 0) (local.get 1)))
  (func (export "protect") (param i32 i32 i32) (call $protect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "map_handle") (param i32 i32 i32 i32 i64) (result i32)
    (call $map_handle (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
)
