// Screening questionnaire in CSIRO Smart Forms: the harness the renderer tests drive.
import React from "react";
import { createRoot } from "react-dom/client";
import {
  BaseRenderer,
  RendererThemeProvider,
  buildForm,
  getResponse,
  removeEmptyAnswersFromResponse,
  useRendererQueryClient,
} from "@aehrc/smart-forms-renderer";
import { QueryClientProvider } from "@tanstack/react-query";

function Form() {
  const queryClient = useRendererQueryClient();
  return (
    <RendererThemeProvider>
      <QueryClientProvider client={queryClient}>
        <BaseRenderer />
      </QueryClientProvider>
    </RendererThemeProvider>
  );
}

let questionnaire = null;

window.renderQuestionnaire = async (resource) => {
  questionnaire = resource;
  // A loopback terminology server: the form's answers are inline, nothing is looked up.
  await buildForm({ questionnaire: resource, terminologyServerUrl: "http://127.0.0.1:9/fhir" });
  createRoot(document.getElementById("form")).render(<Form />);
};

// What the renderer itself exports (in-progress, may keep answers to hidden items).
window.exportRawResponse = () => getResponse();

// What a front end sends: empty and hidden answers removed, marked completed.
window.exportResponse = () => {
  const cleaned = removeEmptyAnswersFromResponse(questionnaire, getResponse());
  return { ...cleaned, status: "completed" };
};
