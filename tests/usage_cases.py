"""Citation contexts of face and person datasets, written for these tests from the patterns of
issue 15 (no sentence is taken from a paper or a shared data set).

Each case: (dataset, context, the citing authors used the dataset?, the pattern it stands for).
Half are use and half not. tests/test_usage.py asserts every pattern is judged right, and
`python -m benchmarks.usage` prints precision and recall on them.
"""

from __future__ import annotations

from typing import NamedTuple


class Case(NamedTuple):
    dataset: str
    text: str
    used: bool
    pattern: str


# Names each case's dataset goes by, as a catalog entry would list them.
DATASETS: dict[str, list[str]] = {
    "MS-Celeb-1M": ["MS-Celeb-1M", "MS1M", "MS-Celeb"],
    "LFW": ["LFW", "Labeled Faces in the Wild"],
    "MegaFace": ["MegaFace"],
    "WIDER FACE": ["WIDER FACE"],
    "CelebA": ["CelebA"],
    "DukeMTMC": ["DukeMTMC", "DukeMTMC-reID"],
    "Brainwash": ["Brainwash"],
    "CASIA-WebFace": ["CASIA-WebFace"],
    "VGGFace2": ["VGGFace2"],
    "UCCS": ["UCCS"],
}

# The patterns issue 15 names, each of which the judge must get right in every case.
ISSUE_PATTERNS = frozenset({
    "first-person train", "first-person evaluate", "passive train", "aligned and cropped",
    "randomly sample from", "performed with", "carried out using", "taken from", "based on",
    "X et al. as subject", "previous methods as subject", "marker as subject", "future",
    "modal", "contrast unlike", "contrast apply to our own", "instead of",
    "use by another party", "collecting own data", "reporting another's result",
    "reporting another's finding", "no name, first-person non-use", "negation",
})

CASES: list[Case] = [
    # --- the authors use it -------------------------------------------------------------
    Case("MS-Celeb-1M", "We train our recognition network on a cleaned version of MS-Celeb-1M [8].", True, "first-person train"),
    Case("LFW", "We evaluate the learned embedding on LFW [14] under the unrestricted protocol.", True, "first-person evaluate"),
    Case("MegaFace", "Our model is tested on MegaFace [18] with one million distractors.", True, "first-person passive test"),
    Case("WIDER FACE", "The detector was trained on the WIDER FACE [40] training split for 80 epochs.", True, "passive train"),
    Case("CelebA", "All face images from CelebA [23] are aligned and cropped to 128x128 pixels.", True, "aligned and cropped"),
    Case("MS-Celeb-1M", "We randomly sample 5,000 identities from MS-Celeb-1M [8] to build the gallery.", True, "randomly sample from"),
    Case("CASIA-WebFace", "Training was performed with CASIA-WebFace [45] as the only source of labelled faces.", True, "performed with"),
    Case("VGGFace2", "Fine-tuning was carried out using VGGFace2 [5] for another ten epochs.", True, "carried out using"),
    Case("DukeMTMC", "The query and gallery images are taken from DukeMTMC-reID [52].", True, "taken from"),
    Case("Brainwash", "Our head counts are based on the Brainwash [31] annotations of the test set.", True, "based on"),
    Case("LFW", "We report a verification accuracy of 99.6% on LFW [14].", True, "first-person result with name"),
    Case("MegaFace", "Our method achieves a rank-1 identification rate of 98.1% on MegaFace [18].", True, "first-person result with name"),
    Case("DukeMTMC", "We conduct extensive experiments on Market-1501 and DukeMTMC-reID [52].", True, "first-person experiments"),
    Case("WIDER FACE", "Experiments on WIDER FACE [40] show that the anchor design helps small faces.", True, "experiments on, no subject"),
    Case("CelebA", "We pre-train the generator on CelebA [23] before adapting it to paintings.", True, "pre-train"),
    Case("MS-Celeb-1M", "For training, we use MS1M [8], which holds about 5.8M images of 85K identities.", True, "we use alias"),
    Case("UCCS", "We follow the UCCS [15] protocol and report detection recall at 1,000 false positives.", True, "follow protocol"),
    Case("CASIA-WebFace", "The backbone is trained from scratch on CASIA-WebFace [45] with a margin loss.", True, "passive train"),
    Case("VGGFace2", "Faces in VGGFace2 [5] are detected with MTCNN and resized to 112x112.", True, "faces of dataset preprocessed"),
    Case("DukeMTMC", "Following [52], we adopt the standard split of DukeMTMC for training and testing.", True, "following marker, we adopt"),
    Case("LFW", "To measure generalisation, we test the model trained on CASIA-WebFace on LFW [14].", True, "we test on"),
    Case("Brainwash", "We fine-tune the head detector on Brainwash [31] and keep its anchors fixed.", True, "fine-tune"),
    Case("MegaFace", "We use the MegaFace [18] challenge 2 training set to learn the embedding.", True, "we use"),
    Case("WIDER FACE", "The evaluation is conducted on the hard subset of WIDER FACE [40].", True, "passive evaluation"),
    Case("CelebA", "We select 10,000 images from CelebA [23] as the attribute classification test set.", True, "select from"),
    Case("MS-Celeb-1M", "The pre-trained model was obtained by training ResNet-50 on MS-Celeb-1M [8].", True, "passive training on"),
    Case("UCCS", "Our face detector is evaluated on UCCS [15] validation images.", True, "our ... evaluated on"),
    Case("DukeMTMC", "Results on DukeMTMC-reID [52] are reported in Table 3, where our model reaches 86.2% rank-1.", True, "results on with our"),
    Case("CASIA-WebFace", "We train on the images of [45] after removing identities that overlap with the test set.", True, "no name, first-person train on marker"),
    Case("LFW", "Using LFW [14], we measure how accuracy varies with the number of training identities.", True, "using name"),
    # --- the authors do not use it ------------------------------------------------------
    Case("MS-Celeb-1M", "Zhang et al. [22] trained their model on MS-Celeb-1M [8].", False, "X et al. as subject"),
    Case("WIDER FACE", "Previous methods achieved state-of-the-art results on WIDER FACE [40].", False, "previous methods as subject"),
    Case("CelebA", "[12] trained a conditional GAN on CelebA [23] to edit facial attributes.", False, "marker as subject"),
    Case("WIDER FACE", "In future work we plan to evaluate on WIDER FACE [40].", False, "future"),
    Case("MegaFace", "The detector could be tested on MegaFace [18] once the licence allows it.", False, "modal"),
    Case("MegaFace", "Unlike MegaFace [18], we collect our own images with consent from every subject.", False, "contrast unlike"),
    Case("MegaFace", "We follow the protocol of MegaFace [18] but apply it to our own footage.", False, "contrast apply to our own"),
    Case("LFW", "We train on our own collection instead of LFW [14], which has too few images per person.", False, "instead of"),
    Case("Brainwash", "The Brainwash [31] images were used in research by NUDT.", False, "use by another party"),
    Case("DukeMTMC", "We collected a new multi-camera dataset on our campus, similar in scale to DukeMTMC [52].", False, "collecting own data"),
    Case("LFW", "As reported in [30], human verification accuracy on LFW [14] is 97.5%.", False, "reporting another's result"),
    Case("MS-Celeb-1M", "Guo et al. showed that MS-Celeb-1M [8] contains many noisy labels.", False, "reporting another's finding"),
    Case("CelebA", "Our results were consistent with other studies of attribute bias (Wang 2012).", False, "no name, first-person non-use"),
    Case("CASIA-WebFace", "Our approach differs from theirs in the choice of the loss (Yi et al., 2014).", False, "no name, first-person, no verb of use"),
    Case("LFW", "LFW [14] contains 13,233 images of 5,749 people collected from the web.", False, "description"),
    Case("MS-Celeb-1M", "MS-Celeb-1M [8] was withdrawn by its creators in 2019.", False, "description of withdrawal"),
    Case("WIDER FACE", "Several face detection benchmarks exist, such as FDDB [16] and WIDER FACE [40].", False, "listing"),
    Case("DukeMTMC", "Person re-identification datasets such as Market-1501 and DukeMTMC [52] drove rapid progress.", False, "listing"),
    Case("VGGFace2", "VGGFace2 [5] covers large variations in pose, age and ethnicity.", False, "description"),
    Case("UCCS", "The UCCS [15] images were captured covertly on a university campus.", False, "description"),
    Case("Brainwash", "Stewart et al. [31] introduced Brainwash, a dataset of people in a cafe.", False, "X et al. introduced"),
    Case("CelebA", "Most existing works train attribute classifiers on CelebA [23].", False, "existing works as subject"),
    Case("MegaFace", "The MegaFace [18] challenge was won by a team that trained on private data.", False, "another party's result"),
    Case("MS-Celeb-1M", "We did not train on MS-Celeb-1M [8] because of its withdrawal.", False, "negation"),
    Case("LFW", "Accuracy on LFW [14] has saturated, which motivates harder benchmarks.", False, "result without the authors' use"),
    Case("CASIA-WebFace", "They trained on CASIA-WebFace [45] and tested on YTF.", False, "they as subject"),
    Case("DukeMTMC", "DukeMTMC [52] was taken down after press reports in 2019.", False, "description of withdrawal"),
    Case("VGGFace2", "Face datasets such as VGGFace2 [5] raise questions of consent.", False, "listing"),
    Case("WIDER FACE", "Detectors trained on WIDER FACE [40] in [33] miss many faces at night.", False, "use located in another work"),
    Case("UCCS", "It would be interesting to evaluate our detector on UCCS [15] as well.", False, "modal"),
]
