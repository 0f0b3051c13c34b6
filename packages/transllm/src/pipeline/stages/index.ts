import type { Stage } from "../stage.js";
import { augmentStage } from "./augment.js";
import { cleanStage } from "./clean.js";
import { cloStage } from "./clo.js";
import { evalStage } from "./evaluation.js";
import { exportStage } from "./export.js";
import { extendStage } from "./extend.js";
import { fertilityStage } from "./fertility.js";
import { kdGenerateStage } from "./kd-generate.js";
import { kdTranslateStage } from "./kd-translate.js";
import { pretrainingStage } from "./pretraining.js";
import { probeStage } from "./probe.js";
import { tcotStage } from "./tcot.js";
import { trainMergeStage, trainPlanStage, trainTargetStage, trainTransferStage, trainTranslationStage } from "./training.js";

/**
 * The stage registry, in the order of docs/pipeline.md (a topological order of the DAG): each stage is one
 * module calling one package's public API: the data stages, the training hand-off (one stage per training stage of
 * the paper), export and evaluation.
 */
export const STAGES: readonly Stage[] = [
	cleanStage,
	fertilityStage,
	extendStage,
	pretrainingStage,
	augmentStage,
	kdGenerateStage,
	kdTranslateStage,
	tcotStage,
	probeStage,
	cloStage,
	trainPlanStage,
	trainTargetStage,
	trainTranslationStage,
	trainTransferStage,
	trainMergeStage,
	exportStage,
	evalStage,
];
