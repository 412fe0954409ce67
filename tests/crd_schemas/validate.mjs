// Validates the resources given as a JSON list on stdin against the CRD schemas that
// @kubernetes-models ships; prints {"validated": [kinds], "errors": [messages]} as JSON.
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { readFileSync } from "node:fs";

const MODELS = {
  "keda.sh/v1alpha1/ScaledObject": ScaledObject,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
};

const validated = [];
const errors = [];
for (const resource of JSON.parse(readFileSync(0, "utf8"))) {
  const Model = MODELS[`${resource.apiVersion}/${resource.kind}`];
  if (!Model) continue;
  try {
    new Model(resource).validate();
    validated.push(resource.kind);
  } catch (error) {
    errors.push(`${resource.kind}/${resource.metadata.name}: ${error.message}`);
  }
}
console.log(JSON.stringify({ validated, errors }));
