export { createNotifier, type NotifierApp } from './app';
export * from './config';
export { type NotifierProcessingDeps, type Notify, notifierProcessing } from './notify';
