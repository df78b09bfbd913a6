import { PAYMENTS_PROGRAM, type PythonProgram } from '../pipeline/launcher';

/**
 * The command-line programs each image carries (paths relative to the image's WORKDIR), in one place.
 * The image check runs `--help` of each as the image's user, and fails when an image carries a program
 * that is not listed here (see entryPoints) or lacks one that is. Services (the default CMD of
 * ingress, worker and payments) are not listed: the check starts them against the local stack.
 */
export const IMAGE_COMMANDS: Readonly<Record<string, readonly string[]>> = {
  producer: ['producer/dist/cli.js'],
  ingress: ['ingress/dist/teardown.js'],
  worker: ['worker/dist/teardown.js'],
  notifier: [],
  payments: [],
};

/** The images of Python services (no node workspace in them), with the program each runs. */
export const PYTHON_IMAGES: Readonly<Record<string, PythonProgram>> = {
  payments: PAYMENTS_PROGRAM,
};
