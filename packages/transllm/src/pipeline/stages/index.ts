import type { Stage } from "../stage.js";
import { cleanStage } from "./clean.js";
import { cloStage } from "./clo.js";
import { exportStage } from "./export.js";
import { extendStage } from "./extend.js";
import { fertilityStage } from "./fertility.js";
import { kdGenerateStage } from "./kd-generate.js";
import { kdTranslateStage } from "./kd-translate.js";
import { pretrainingStage } from "./pretraining.js";
import { probeStage } from "./probe.js";
import { tcotStage } from "./tcot.js";

/**
 * The stage registry, in the order of docs/pipeline.md (a topological order of the DAG): each stage is one
 * module calling one package's public API. The training hand-off and evaluation stages join here when their
 * packages exist (export then takes the trained checkpoint from training).
 */
export const STAGES: readonly Stage[] = [cleanStage, fertilityStage, extendStage, pretrainingStage, kdGenerateStage, kdTranslateStage, tcotStage, probeStage, cloStage, exportStage];
