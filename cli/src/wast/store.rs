//! A script's live state: its instances (by id and the current one), the
//! names registered for import, and the `spectest` module.

use std::collections::HashMap;
use std::sync::Arc;

use wasm2o_runtime::desc::Import;
use wasm2o_runtime::{Extern, Instance, InstantiateError, Module};

use super::spectest;

#[derive(Default)]
pub struct Store {
    instances: Vec<Instance>,
    /// `$id` (without the `$`) → instance, or why its module failed.
    named: HashMap<String, Result<usize, String>>,
    /// The most recent module, the default target (or why it failed).
    current: Option<Result<usize, String>>,
    /// `register "name"` → instance.
    registered: HashMap<String, usize>,
    /// Built on first use (it reserves a memory).
    spectest: Option<HashMap<&'static str, Extern>>,
    /// `module definition $id` → module.
    definitions: HashMap<String, Arc<Module>>,
}

impl Store {
    /// Instantiates `module` with imports from `spectest` and registered
    /// instances; on success it becomes the current instance (named `id`).
    pub fn instantiate(
        &mut self,
        module: &Arc<Module>,
        id: Option<&str>,
    ) -> Result<(), InstantiateError> {
        let instance = self.new_instance(module)?;
        self.instances.push(instance);
        let index = self.instances.len() - 1;
        self.current = Some(Ok(index));
        if let Some(id) = id {
            self.named.insert(id.to_string(), Ok(index));
        }
        Ok(())
    }

    /// A module directive failed: later directives naming it (or using the
    /// current module) fail with `why` instead of a confusing lookup error.
    pub fn failed(&mut self, id: Option<&str>, why: String) {
        if let Some(id) = id {
            self.named.insert(id.to_string(), Err(why.clone()));
        }
        self.current = Some(Err(why));
    }

    /// Instantiates without keeping the instance (assert_trap/unlinkable).
    pub fn new_instance(&mut self, module: &Arc<Module>) -> Result<Instance, InstantiateError> {
        if self.spectest.is_none() && module.info().imports.iter().any(|i| i.module == "spectest") {
            let exports = spectest::exports().map_err(InstantiateError::Resource)?;
            self.spectest = Some(exports);
        }
        let spectest = &self.spectest;
        let registered = &self.registered;
        let instances = &self.instances;
        let mut resolve = |imp: &Import| -> Option<Extern> {
            if imp.module == "spectest" {
                return spectest.as_ref()?.get(imp.name.as_str()).cloned();
            }
            let index = *registered.get(&imp.module)?;
            instances[index].export(&imp.name)
        };
        Instance::new(module, &mut resolve)
    }

    /// The instance a directive names (`None`: the current one).
    pub fn instance(&mut self, id: Option<&str>) -> Result<&mut Instance, String> {
        let index = self.index(id)?;
        Ok(&mut self.instances[index])
    }

    fn index(&self, id: Option<&str>) -> Result<usize, String> {
        let slot = match id {
            Some(id) => self
                .named
                .get(id)
                .ok_or_else(|| format!("no instance named ${id}"))?,
            None => self
                .current
                .as_ref()
                .ok_or_else(|| "no module instantiated yet".to_string())?,
        };
        slot.clone()
    }

    pub fn register(&mut self, name: &str, id: Option<&str>) -> Result<(), String> {
        let index = self.index(id)?;
        self.registered.insert(name.to_string(), index);
        Ok(())
    }

    pub fn define(&mut self, id: &str, module: Arc<Module>) {
        self.definitions.insert(id.to_string(), module);
    }

    pub fn definition(&self, id: &str) -> Option<Arc<Module>> {
        self.definitions.get(id).cloned()
    }
}
